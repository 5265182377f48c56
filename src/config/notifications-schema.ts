import { z } from "zod";
import { NOTIFY_EVENTS } from "../notify/events.js";
import { durationMsSchema, durationSchema, secretRefSchema } from "./schema-parts.js";

/**
 * `notifications:`: signed webhooks fed from a durable outbox
 * (docs/notifications.md). `events` omitted = every event.
 *
 * @example
 * notifications: { webhooks: [{ url: "https://hooks.example/lethe", secret: "env:HOOK_SECRET" }] }
 */
export const notificationsSchema = z.strictObject({
  webhooks: z
    .array(
      z.strictObject({
        url: z.url({ protocol: /^https?$/, error: "expected an http(s) URL" }),
        secret: secretRefSchema,
        events: z.array(z.enum(NOTIFY_EVENTS)).min(1).optional(),
      }),
    )
    .default([]),
  /** `erasure.due_soon` fires this long before a request's deadline. */
  warnBefore: durationSchema.default("3d"),
  /** Delivery retries: exponential backoff from `retryMin` up to `retryMax`, then dead after `maxAttempts` or `maxAge`. */
  retryMin: durationMsSchema.default("5s"),
  retryMax: durationMsSchema.default("1h"),
  maxAttempts: z.number().int().min(1).max(1000).default(20),
  maxAge: durationSchema.default("3d"),
});
