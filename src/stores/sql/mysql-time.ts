import { type RawBuilder, sql } from "kysely";
import { isoDateBound, MS_THRESHOLD, type TsEncoding } from "./target-dialect.js";

/**
 * Timestamp arithmetic for MariaDB/MySQL targets. Sessions run with
 * `time_zone = '+00:00'`, so `DATETIME` and zone-less text are read as UTC and
 * `TIMESTAMP` values come back in UTC. Every regular expression avoids
 * backslashes: the server's `NO_BACKSLASH_ESCAPES` mode would change them.
 */

export const NUMERIC = /^(tinyint|smallint|mediumint|int|integer|bigint|decimal|numeric|float|double|real)\b/;
export const TEXTUAL = /^(char|varchar|tinytext|text|mediumtext|longtext|enum|set|json)\b/;
const NATIVE = /^(datetime|timestamp|date)\b/;

// Upper-cased first (so `t`/`z` work), a decimal comma turned into a point. Offsets up to ±15:59, as PostgreSQL
// accepts: `+99:99` is no zone, so the value is unreadable (never expires) rather than shifted by four days.
const ISO_RE =
  "^[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?)?[ ]*(Z|[+-](0[0-9]|1[0-5])(:?[0-5][0-9])?)?$";
/** The date-time part of a value ISO_RE accepted: everything before the zone. */
const DATETIME_RE = "^[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?)?";
const EPOCH_0 = "1970-01-01 00:00:00";

/** How a column of this declared type stores instants (the type decides; MySQL columns are typed). */
export function encodingOfType(type: string): TsEncoding {
  if (NATIVE.test(type)) return "native";
  if (NUMERIC.test(type)) return "epoch";
  if (TEXTUAL.test(type)) return "text";
  return "mixed";
}

/** Seconds from the epoch to a DATETIME-like value, over the whole DATETIME range (unix_timestamp stops in 2038). */
function sinceEpoch(v: RawBuilder<unknown>): RawBuilder<number> {
  return sql<number>`(timestampdiff(microsecond, ${EPOCH_0}, ${v}) / 1e6)`;
}

function epochNumber(v: RawBuilder<unknown>): RawBuilder<number> {
  return sql<number>`(case when ${v} > ${MS_THRESHOLD} then ${v} / 1e3 else ${v} + 0e0 end)`;
}

/** Digit-only text is an epoch; ISO 8601 text has its zone (`Z`, `+05:30`, `+0530`, `+05`, none = UTC) applied. */
function textEpoch(v: RawBuilder<unknown>): RawBuilder<number | null> {
  const n = sql`replace(upper(trim(cast(${v} as char))), ',', '.')`;
  const dt = sql`regexp_substr(${n}, ${DATETIME_RE})`;
  const zone = sql`trim(substring(${n}, char_length(${dt}) + 1))`;
  const z = sql`replace(${zone}, ':', '')`;
  const offset = sql`(case when ${zone} in ('', 'Z') then 0
    else (case when left(${z}, 1) = '-' then -1 else 1 end)
      * (substring(${z}, 2, 2) * 3600 + (case when char_length(${z}) >= 5 then substring(${z}, 4, 2) * 60 else 0 end))
  end)`;
  return sql<number | null>`(case
    when ${n} regexp '^[0-9]+$' then ${epochNumber(sql`(${n} + 0e0)`)}
    when ${n} regexp ${ISO_RE} then ${sinceEpoch(sql`cast(replace(${dt}, 'T', ' ') as datetime(6))`)} - ${offset}
  end)`;
}

/** The column's instant as epoch seconds (a double), NULL when unreadable. */
export function mysqlEpochSeconds(column: string, enc: TsEncoding): RawBuilder<number | null> {
  const v = sql.id(column);
  if (enc === "native") return sinceEpoch(v);
  if (enc === "epoch") return epochNumber(v);
  return textEpoch(v);
}

/** `YYYY-MM-DD HH:MM:SS` (UTC) one second after `cutoff`: a superset bound whatever the column's precision. */
function datetimeAfter(cutoff: number): string {
  return new Date((Math.floor(cutoff) + 1) * 1000).toISOString().replace("T", " ").slice(0, 19);
}

/** An index range that contains every row whose instant is at or before `cutoff`. */
export function mysqlRangeBound(column: string, enc: TsEncoding, cutoff: number): RawBuilder<boolean> | undefined {
  const v = sql.id(column);
  if (enc === "native") return sql<boolean>`${v} <= ${datetimeAfter(cutoff)}`;
  if (enc === "epoch")
    return sql<boolean>`(${v} <= ${cutoff} or (${v} > ${MS_THRESHOLD} and ${v} <= ${cutoff * 1000}))`;
  if (enc === "text") return sql<boolean>`${v} < ${isoDateBound(cutoff)}`;
  return undefined;
}

/** A per-row retention value; text counts only as a plain number ("forever" or "1 year" never expire). */
export function mysqlRetentionNumber(column: string, type: string): RawBuilder<number | null> {
  const v = sql.id(column);
  if (NUMERIC.test(type)) return sql<number | null>`(${v} + 0e0)`;
  const t = sql`trim(cast(${v} as char))`;
  return sql<number | null>`(case when ${t} regexp '^-?[0-9]+([.][0-9]+)?$' then ${t} + 0e0 end)`;
}
