import { LetheError } from "../errors.js";

/** A received-at this far ahead of this host's clock is a mistake, not clock skew. */
export const RECEIVED_AT_MAX_SKEW_MS = 5 * 60_000;
/**
 * The earliest accepted received-at: 2016-04-27, the day the GDPR was adopted.
 * No erasure request under it can predate that, and a fixed date (unlike the
 * ledger's genesis) does not refuse a request received before lethe was installed.
 */
export const RECEIVED_AT_EARLIEST = new Date("2016-04-27T00:00:00Z");

// RFC 3339 date-time with a zone (Z or ±hh:mm); nothing looser (`2` is not 2001-02-01).
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * The one rule for a request's received-at, for the CLI, the HTTP API and the
 * library: RFC 3339 with a zone, not before 2016-04-27, not more than five
 * minutes in the future. Throws `VALIDATION` naming `field`.
 *
 * @example
 * checkReceivedAt("2026-03-01T09:00:00Z"); // Date
 * checkReceivedAt("2"); // throws VALIDATION
 */
export function checkReceivedAt(value: string | Date, field = "receivedAt", now = new Date()): Date {
  let d: Date;
  if (typeof value === "string") {
    if (!RFC3339.test(value))
      throw new LetheError(
        "VALIDATION",
        `${field}: expected an RFC 3339 date-time with a zone, e.g. 2026-03-01T09:00:00Z`,
      );
    d = new Date(value);
  } else d = value;
  if (Number.isNaN(d.getTime())) throw new LetheError("VALIDATION", `${field}: not a valid date`);
  if (d.getTime() > now.getTime() + RECEIVED_AT_MAX_SKEW_MS)
    throw new LetheError("VALIDATION", `${field}: lies in the future (more than 5 minutes ahead)`);
  if (d.getTime() < RECEIVED_AT_EARLIEST.getTime())
    throw new LetheError("VALIDATION", `${field}: before 2016-04-27 (GDPR adopted): no request can be that old`);
  return d;
}
