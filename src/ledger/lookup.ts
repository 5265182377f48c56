import { type RawBuilder, sql } from "kysely";

/** Hex digits of a hash kept in the ledger's lookup indexes (migration 0005). */
const TAG = 12;

/**
 * `subject_hash = h`, phrased so the tag index answers it: the tag narrows to a
 * handful of rows, the full comparison keeps only exact matches.
 *
 * @example
 * db.selectFrom("ledger").selectAll().where(subjectIs(ledger.subjectHash("user-42")))
 */
export function subjectIs(hash: string): RawBuilder<boolean> {
  return sql<boolean>`(substr(subject_hash, 1, ${sql.lit(TAG)}) = ${hash.slice(0, TAG)} and subject_hash = ${hash})`;
}

/**
 * The entries of an item, given its clear integer key and/or its key HMAC.
 *
 * @example
 * db.selectFrom("ledger").selectAll().where(itemIs(["42", ledger.keyHash("logs", "42")]))
 */
export function itemIs(refs: string[]): RawBuilder<boolean> {
  // A clear key is its own tag; a hash is cut to the indexed prefix.
  const tags = [...new Set(refs.map((r) => (/^[0-9a-f]{64}$/.test(r) ? r.slice(0, TAG) : r)))];
  return sql<boolean>`(coalesce(item_key, substr(key_hash, 1, ${sql.lit(TAG)})) in (${sql.join(tags)})
    and coalesce(item_key, key_hash) in (${sql.join(refs)}))`;
}
