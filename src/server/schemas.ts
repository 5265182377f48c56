import { z } from "zod";
import { MAX_SUBJECT_LENGTH } from "../core/keys/canonical-key.js";
import { REQUEST_STATUSES } from "../core/requests/types.js";

/**
 * Request shapes of the endpoints that have no library input type of their
 * own. Every object is strict: an unknown field is a 400, never ignored.
 */

const isoDate = z.string().refine((s) => !Number.isNaN(Date.parse(s)), { message: "expected an ISO-8601 date" });
const name = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, { message: "expected a dataset name" });

export const holdBody = z
  .strictObject({
    subject: z.string().min(1).max(MAX_SUBJECT_LENGTH).optional(),
    dataset: name.optional(),
    reason: z.string().trim().min(1, { message: "a hold needs a reason" }).max(2000),
    until: isoDate.optional(),
  })
  .refine((b) => (b.subject === undefined) !== (b.dataset === undefined), {
    message: "name exactly one of subject or dataset",
  });

export const runBody = z.strictObject({
  dataset: name.optional(),
  force: z.boolean().optional(),
});

const limit = (max: number, dflt: number) => z.coerce.number().int().min(1).max(max).default(dflt);

/** `?full=1` (or `true`): re-check every entry, not only those after the last verified one. */
export const verifyQuery = z.strictObject({
  full: z
    .enum(["1", "0", "true", "false"], { error: "expected full=1 or full=0" })
    .optional()
    .transform((v) => v === "1" || v === "true"),
});

export const auditQuery = z
  .strictObject({
    subject: z.string().min(1).max(MAX_SUBJECT_LENGTH).optional(),
    dataset: name.optional(),
    key: z.string().min(1).max(1024).optional(),
    runId: z.string().min(1).max(200).optional(),
    limit: limit(10_000, 1000),
  })
  .refine((q) => q.key === undefined || q.dataset !== undefined, { message: "key needs dataset" })
  .refine((q) => q.subject !== undefined || q.dataset !== undefined || q.runId !== undefined, {
    message: "name subject, dataset (with an optional key) or runId",
  });

export const planQuery = z.strictObject({ dataset: name.optional() });
export const listQuery = z.strictObject({ limit: limit(500, 50) });
export const forecastQuery = z.strictObject({ days: limit(366, 30) });
export const idParams = z.strictObject({ id: z.string().min(1).max(200) });

/** `POST /v1/erasure-requests` (DESIGN.md): `lethe.requests.create(subject, { reason, receivedAt })`. */
export const erasureRequestBody = z.strictObject({
  subject: z
    .string()
    .min(1)
    .max(MAX_SUBJECT_LENGTH)
    .refine((s) => !s.includes("\0"), { message: "must not contain NUL characters" }),
  reason: z.string().max(2000).optional(),
  receivedAt: isoDate.optional(),
});

export const erasureListQuery = z.strictObject({
  status: z.enum(REQUEST_STATUSES).optional(),
  overdue: z
    .enum(["true", "false"], { message: 'expected "true" or "false"' })
    .transform((v) => v === "true")
    .optional(),
});

export const receiptParams = z.strictObject({ requestId: z.string().min(1).max(200) });
