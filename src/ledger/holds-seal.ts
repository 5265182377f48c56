import { createHash, createHmac } from "node:crypto";
import { type Kysely, sql } from "kysely";
import { LetheError } from "../core/errors.js";
import { hexEqual } from "../crypto/hex-equal.js";
import type { StateTx } from "../state/dialect.js";
import type { StateHandle } from "../state/open-state.js";
import type { StateDatabase } from "../state/schema.js";

/** The migration that added the seal (and the index of hold entries); the open that applies it seals the holds. */
export const HOLDS_SEAL_MIGRATION = "0013-holds-seal";
/** Where the seal lives: one `lethe_meta` row, `{"seq":…,"mac":…}`. */
export const HOLDS_SEAL_KEY = "holds-seal";

type HoldRow = StateDatabase["holds"];
type Db = Kysely<StateDatabase>;

const REFUSED =
  "the holds table does not match its seal: a hold row was deleted, altered or added, or the holds were rolled back, outside lethe; refusing to delete anything (restore the state from a backup, then run lethe audit verify --full)";

/**
 * HMAC-SHA256 (hex) over the set of unreleased holds (every field of each row, in id order) and the seq of the
 * newest `hold_added`/`hold_released` ledger entry. Expiry (`until`) is a matter of time, not of the rows, so an
 * expired hold stays in the set until it is released.
 *
 * @example
 * const mac = holdsSealMac(chainKey, 42, await unreleasedHolds(db));
 */
export function holdsSealMac(chainKey: Buffer, seq: number, rows: HoldRow[]): string {
  const digest = createHash("sha256");
  // Sorted here, not by SQL: SQLite and PostgreSQL collations order text differently.
  for (const r of [...rows].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)))
    digest.update(
      `${JSON.stringify([r.id, r.subject_hash, r.dataset, r.reason, r.until, r.created_at, r.released_at])}\n`,
    );
  return createHmac("sha256", chainKey)
    .update(`lethe-holds/v1\n${seq}\n${digest.digest("hex")}\n`)
    .digest("hex");
}

/** Every hold not released (active or expired). */
export function unreleasedHolds(db: Db): Promise<HoldRow[]> {
  return db.selectFrom("holds").selectAll().where("released_at", "is", null).execute();
}

/** The seq of the newest hold entry still on the ledger (0 if none); index `ledger_hold_seq` keeps it a lookup. */
export async function newestHoldEntry(db: Db, below = Number.MAX_SAFE_INTEGER): Promise<number> {
  const row = await sql<{ seq: number | string }>`
    select seq from ledger where action in ('hold_added', 'hold_released') and seq < ${below} order by seq desc limit 1`.execute(
    db,
  );
  return row.rows[0] ? Number(row.rows[0].seq) : 0;
}

/**
 * Rewrites the seal inside the transaction of a hold change, after its ledger entry (`seq`) and row change.
 *
 * @example
 * await writeHoldsSeal(trx, chainKey, last); // last: the seq of the hold entry the change appended in trx
 */
export async function writeHoldsSeal(trx: StateTx, chainKey: Buffer, seq: number): Promise<void> {
  const value = JSON.stringify({ seq, mac: holdsSealMac(chainKey, seq, await unreleasedHolds(trx)) });
  await trx
    .insertInto("lethe_meta")
    .values({ key: HOLDS_SEAL_KEY, value })
    .onConflict((oc) => oc.column("key").doUpdateSet({ value }))
    .execute();
}

async function readSeal(db: Db): Promise<{ seq: number; mac: string } | undefined> {
  const row = await db.selectFrom("lethe_meta").select("value").where("key", "=", HOLDS_SEAL_KEY).executeTakeFirst();
  if (!row) return undefined;
  try {
    const v = JSON.parse(row.value) as { seq?: unknown; mac?: unknown };
    return typeof v.seq === "number" && typeof v.mac === "string" ? { seq: v.seq, mac: v.mac } : undefined;
  } catch {
    return undefined;
  }
}

function macMatches(chainKey: Buffer, seq: number, rows: HoldRow[], mac: string): boolean {
  return hexEqual(holdsSealMac(chainKey, seq, rows), mac);
}

/**
 * The unreleased holds, only if they are the set lethe sealed at its last hold change: the seal authenticates
 * them and names the newest hold entry on the ledger (a rollback of holds and seal to an older snapshot names an
 * older one). After a prune removed every hold entry, the seal's seq must lie inside the pruned prefix. Read in
 * one snapshot, so a hold change committing meanwhile is not mistaken for tampering.
 *
 * @example
 * const rows = await verifiedHolds(state, chainKey); // throws AUDIT_FAILED when tampered with
 */
export async function verifiedHolds(state: Pick<StateHandle, "db" | "dialect">, chainKey: Buffer): Promise<HoldRow[]> {
  let tx = state.db.transaction();
  if (state.dialect.shared) tx = tx.setIsolationLevel("repeatable read");
  return tx.execute((trx) => checkHolds(trx, chainKey));
}

/**
 * The check of `verifiedHolds` inside the caller's transaction; a hold change runs it under the head lock
 * before changing anything, so it never seals over rows edited outside lethe (`below`: the change's own entry).
 *
 * @example
 * await checkHolds(trx, chainKey);
 */
export async function checkHolds(trx: StateTx, chainKey: Buffer, below?: number): Promise<HoldRow[]> {
  const rows = await unreleasedHolds(trx);
  const seal = await readSeal(trx);
  if (!seal || !macMatches(chainKey, seal.seq, rows, seal.mac)) throw new LetheError("AUDIT_FAILED", REFUSED);
  const newest = await newestHoldEntry(trx, below);
  if (newest === 0 ? seal.seq > (await prunedUpTo(trx)) : seal.seq !== newest)
    throw new LetheError("AUDIT_FAILED", REFUSED);
  return rows;
}

/** How many entries `audit prune` removed (0 if none): the newest hold entry may be among them. */
async function prunedUpTo(trx: StateTx): Promise<number> {
  const row = await trx
    .selectFrom("ledger_anchors")
    .select((eb) => eb.fn.max("size").as("size"))
    .executeTakeFirst();
  return Number(row?.size ?? 0);
}

/**
 * The transition: the open that applies migration 0013 seals the holds as they stand, after checking them
 * against the ledger (every hold the ledger shows added and not released must have its unreleased row), so
 * a row deleted before the upgrade, or a replayed upgrade, is refused rather than sealed.
 *
 * @example
 * await sealHoldsAfterMigration(state, chainKey);
 */
export async function sealHoldsAfterMigration(state: Pick<StateHandle, "db">, chainKey: Buffer) {
  await state.db.transaction().execute(async (trx) => {
    const rows = new Map((await unreleasedHolds(trx)).map((r) => [r.id, r]));
    const entries = await sql<{ action: string; subject_hash: string | null; dataset: string | null; data: string }>`
      select action, subject_hash, dataset, data from ledger where action in ('hold_added', 'hold_released') order by seq`.execute(
      trx,
    );
    const open = new Map<string, { subject_hash: string | null; dataset: string | null }>();
    for (const e of entries.rows) {
      const id = holdIdOf(e.data);
      if (id === undefined) continue; // every entry lethe wrote for a hold names it
      if (e.action === "hold_added") open.set(id, { subject_hash: e.subject_hash, dataset: e.dataset });
      else open.delete(id);
    }
    for (const [id, e] of open) {
      const r = rows.get(id);
      if (!r || r.subject_hash !== e.subject_hash || r.dataset !== e.dataset)
        throw new LetheError("AUDIT_FAILED", REFUSED);
    }
    await writeHoldsSeal(trx, chainKey, await newestHoldEntry(trx));
  });
}

function holdIdOf(data: string | null): string | undefined {
  try {
    const id = (JSON.parse(data ?? "{}") as { holdId?: unknown }).holdId;
    return typeof id === "string" ? id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether the state has never held anything a seal protects: no seal, no hold row, no hold entry, nothing pruned.
 * Only then may an open other than the migrating one write the first seal (of the empty set).
 *
 * @example
 * if (await neverHeld(state)) await sealHoldsAfterMigration(state, chainKey);
 */
export async function neverHeld(state: Pick<StateHandle, "db">): Promise<boolean> {
  if (await readSeal(state.db)) return false;
  if (await state.db.selectFrom("holds").select("id").limit(1).executeTakeFirst()) return false;
  if ((await newestHoldEntry(state.db)) !== 0) return false;
  return (await state.db.selectFrom("ledger_anchors").select("size").limit(1).executeTakeFirst()) === undefined;
}

/**
 * Master-key rotation: moves the seal to the new chain key inside the rotation's transaction, only if it
 * authenticates under the old one (a broken seal stays broken).
 *
 * @example
 * await resealHolds(trx, oldChainKey, newChainKey);
 */
export async function resealHolds(trx: StateTx, oldChainKey: Buffer, newChainKey: Buffer): Promise<void> {
  const seal = await readSeal(trx);
  const rows = await unreleasedHolds(trx);
  if (!seal || !macMatches(oldChainKey, seal.seq, rows, seal.mac)) return;
  const value = JSON.stringify({ seq: seal.seq, mac: holdsSealMac(newChainKey, seal.seq, rows) });
  await trx.updateTable("lethe_meta").set({ value }).where("key", "=", HOLDS_SEAL_KEY).execute();
}
