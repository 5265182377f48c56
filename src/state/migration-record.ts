import { type Kysely, sql } from "kysely";
import { LetheError } from "../core/errors.js";
import type { StateDatabase } from "./schema.js";

/**
 * Refuses a state whose record of applied migrations has a hole: a known
 * migration missing while a later one is recorded. Lethe applies migrations
 * in order, so a hole only appears when someone deleted the row, typically to
 * have a migration run again (re-running the one that keys the ledger head
 * would key a forged ledger as it stands). Checked before any migration runs,
 * so the state is left as it was found.
 *
 * @example
 * await refuseMigrationGaps(db, ["0001-init", "0002-erasure"]);
 */
export async function refuseMigrationGaps(db: Kysely<StateDatabase>, known: readonly string[]): Promise<void> {
  const recorded = await sql<{ name: string }>`select name from lethe_migrations`
    .execute(db)
    .then((r) => new Set(r.rows.map((x) => x.name)))
    // A new state: nothing recorded yet.
    .catch(() => new Set<string>());
  // No record at all beside an existing ledger: replaying every migration would fail half-way, or re-key it.
  if (recorded.size === 0 && (await hasLedgerHead(db)))
    throw new LetheError(
      "AUDIT_FAILED",
      "lethe's state was damaged or tampered with: the record of applied migrations is missing while the ledger exists; restore the state from a backup, then run lethe audit verify --full",
    );
  const names = [...known].sort();
  const last = names.findLastIndex((n) => recorded.has(n));
  const missing = names.slice(0, last + 1).filter((n) => !recorded.has(n));
  if (missing.length === 0) return;
  throw new LetheError(
    "AUDIT_FAILED",
    `lethe's state was tampered with: migration ${missing.join(", ")} is no longer recorded although the later migration ${names[last]} is; a migration never runs twice (restore the state from a backup, then run lethe audit verify --full)`,
    { missing },
  );
}

async function hasLedgerHead(db: Kysely<StateDatabase>): Promise<boolean> {
  return sql`select 1 from ledger_head`
    .execute(db)
    .then(() => true)
    .catch(() => false);
}
