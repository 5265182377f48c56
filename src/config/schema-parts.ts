import { z } from "zod";
import { DURATION_PATTERN, isDuration, isSecondsDuration } from "./duration.js";
import { SECRET_REF_RE } from "./secrets.js";

/** Leaf schemas shared by src/config/schema.ts and its section files (no import cycle). */

const DURATION_MSG = "expected a duration like 30d (90s, 15m, 1h, 30d; a bare number is not accepted)";
const DURATION_MS_MSG = "expected a duration like 5m (500ms, 90s, 15m, 1h; a bare number is not accepted)";

/** A whole number of seconds or more (retention, deadlines, graces). */
export const durationSchema = z
  .string({ error: DURATION_MSG })
  .refine(isSecondsDuration, { message: DURATION_MSG })
  .meta({ pattern: DURATION_PATTERN, description: "a duration with a unit: 90s, 15m, 1h, 30d" });
/** Where sub-second values make sense (workspace ttl, lease ttl, retry delays): `500ms` too. */
export const durationMsSchema = z
  .string({ error: DURATION_MS_MSG })
  .refine(isDuration, { message: DURATION_MS_MSG })
  .meta({ pattern: DURATION_PATTERN, description: "a duration with a unit: 500ms, 90s, 15m, 1h" });

export const secretRefSchema = z
  .string()
  .regex(SECRET_REF_RE, { message: "expected a secret reference env:NAME or file:PATH (never an inline secret)" });
