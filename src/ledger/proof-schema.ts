import { z } from "zod";

/**
 * The exact shape of an inclusion proof file (what `audit prove` writes),
 * checked before anything is hashed. Every byte string has its exact length
 * and lowercase hex, every number is an integer in range, and no object
 * carries a field lethe does not write: an offline checker must never accept
 * (and echo back) a value that is not the one the hashes committed to, e.g. a
 * 9-byte subject tag whose first 8 bytes are the real one.
 */

const hex = (bytes: number) =>
  z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`), { message: `expected ${bytes} bytes as lowercase hex` });
const hash = hex(32);
/** An audit path: at most one hash per tree level (sizes are below 2^64 leaves). */
const path = z.array(hash).max(64);
const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .number({ error: "expected an integer" })
    .int({ message: "expected an integer" })
    .min(min, { message: `expected an integer ≥ ${min}` })
    .max(max, { message: `expected an integer ≤ ${max}` });
/** Checkpoint times are `Date#toISOString()` output. */
const isoTime = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/, {
  message: "expected a time like 2026-01-31T12:00:00.000Z",
});
const text = z.string().max(10_000);

const checkpoint = z.strictObject({
  size: int(1),
  root: hash,
  at: isoTime,
  /** Ed25519: 64 bytes, base64 with its padding. */
  signature: z.string().regex(/^[A-Za-z0-9+/]{86}==$/, { message: "expected a 64-byte Ed25519 signature in base64" }),
  keyId: hash.optional(),
});

/** The entry as `audit log` shows it; every field is then hashed, so strings are taken as they are. */
const entry = z.strictObject({
  seq: int(1),
  at: text,
  action: text,
  dataset: text.optional(),
  key: int(Number.MIN_SAFE_INTEGER).optional(),
  keyHash: hash.optional(),
  subjectHash: hash.optional(),
  reason: text.optional(),
  runId: text.optional(),
  data: z.record(z.string(), z.unknown()).optional(),
  prevHash: hash,
  hash,
});

const item = z
  .strictObject({
    index: int(0, 0xffff_ffff),
    size: int(1, 0x1_0000_0000),
    salt: hex(16),
    key: int(Number.MIN_SAFE_INTEGER).optional(),
    keyTag: hex(8).optional(),
    subjectTag: hex(8).optional(),
    path: z.array(hash).max(33),
  })
  .refine((i) => i.index < i.size, { message: "index must be below size", path: ["index"] })
  .refine((i) => (i.key === undefined) !== (i.keyTag === undefined), {
    message: "exactly one of key or keyTag",
    path: ["key"],
  });

/** An inclusion proof as `lethe audit prove` writes it (see docs/ledger.md). */
export const inclusionProofSchema = z
  .strictObject({
    seq: int(1),
    entryHash: hash,
    leafIndex: int(0),
    path,
    checkpoint,
    entry: entry.optional(),
    item: item.optional(),
  })
  .refine((p) => p.item === undefined || p.entry !== undefined, {
    message: "an item proof needs its entry",
    path: ["entry"],
  });

/**
 * What is malformed in `input` as a proof: one `field.path: problem` per
 * issue (empty when well-formed). Used before any hashing, so a malformed
 * proof is refused by name instead of failing inside the hash code.
 *
 * @example
 * proofProblems(JSON.parse(text)); // ["item.index: expected an integer"]
 */
export function proofProblems(input: unknown): string[] {
  const r = inclusionProofSchema.safeParse(input);
  if (r.success) return [];
  return r.error.issues.map((i) => `${i.path.length ? i.path.map(String).join(".") : "(proof)"}: ${i.message}`);
}
