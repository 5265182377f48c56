import { type Kysely, sql } from "kysely";
import { LetheError } from "../core/errors.js";
import type { StateDialect } from "./dialect.js";
import { ownTableNames } from "./own-tables.js";
import type { StateDatabase } from "./schema.js";

const HEX64 = /^[0-9a-f]{64}$/;
const TAMPERED = "lethe's state was damaged or tampered with";
const RESTORE = "restore the state from a backup, then run lethe audit verify --full";

/**
 * A SQLite error that means the state file itself is not a sound database
 * (random bytes, a truncated or overwritten file), as a coded error naming
 * what is wrong and no path; undefined for any other error.
 *
 * @example
 * throw corruptStateFile(err) ?? err;
 */
export function corruptStateFile(err: unknown): LetheError | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== "string") return undefined;
  const what =
    code === "SQLITE_NOTADB"
      ? "the file is not a database"
      : code.startsWith("SQLITE_CORRUPT")
        ? "the file is corrupt (malformed or truncated)"
        : undefined;
  if (!what) return undefined;
  return new LetheError("AUDIT_FAILED", `lethe's state database is not a sound lethe state: ${what}; ${RESTORE}`, {
    sqlite: code,
  });
}

/** The names of the tables that exist in lethe's own schema (SQLite: the file). */
export async function presentTables(db: Kysely<StateDatabase>, dialect: StateDialect): Promise<Set<string>> {
  const r =
    dialect.name === "sqlite"
      ? await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(db)
      : await sql<{ name: string }>`select c.relname as name from pg_class c
          join pg_namespace n on n.oid = c.relnamespace
          where c.relkind in ('r', 'p') and n.nspname = ${dialect.schema ?? "public"}`.execute(db);
  return new Set(r.rows.map((x) => x.name));
}

/**
 * What is wrong with a `ledger_head` row as stored (a missing row, a value of
 * the wrong type or shape), or undefined when it is well-formed. Whether it
 * is *authentic* (its MAC) and agrees with the entries is the ledger's check;
 * this one keeps garbage from reaching arithmetic and JSON.parse.
 *
 * @example
 * headRowProblem(undefined, 12); // "the ledger head is missing while 12 entries exist"
 */
export function headRowProblem(
  h: { seq: unknown; hash: unknown; frontier: unknown; keyed_from?: unknown; mac?: unknown } | undefined,
  entries: number,
): string | undefined {
  if (!h) return `the ledger head is missing while ${entries} entr${entries === 1 ? "y exists" : "ies exist"}`;
  const seq = typeof h.seq === "string" && /^\d{1,15}$/.test(h.seq) ? Number(h.seq) : h.seq;
  if (typeof seq !== "number" || !Number.isSafeInteger(seq) || seq < 0)
    return "the ledger head's entry count (seq) is not a non-negative integer";
  if (typeof h.hash !== "string" || !HEX64.test(h.hash)) return "the ledger head's hash is not 64 hex digits";
  let frontier: unknown;
  try {
    frontier = typeof h.frontier === "string" ? JSON.parse(h.frontier) : undefined;
  } catch {
    frontier = undefined;
  }
  if (
    !Array.isArray(frontier) ||
    frontier.length > 64 ||
    !frontier.every((x) => typeof x === "string" && HEX64.test(x))
  )
    return "the ledger head's Merkle frontier is not a list of hashes";
  const kf = h.keyed_from;
  if (kf !== null && kf !== undefined && !/^\d{1,15}$/.test(String(kf)))
    return "the ledger head's keyed_from is not a non-negative integer";
  if (h.mac !== null && h.mac !== undefined && (typeof h.mac !== "string" || !/^[0-9a-f]{1,128}$/.test(h.mac)))
    return "the ledger head's MAC is not hex";
  return undefined;
}

/**
 * Refuses, with AUDIT_FAILED (exit 4), a state whose structure was damaged or
 * tampered with, before any command reads or appends: a table lethe's
 * migrations created is gone, or the ledger head row is missing, duplicated
 * or malformed. Cheap (three small queries), so every open runs it; the
 * entries themselves are `audit verify`'s job.
 *
 * @example
 * await refuseDamagedState(db, dialect);
 */
export async function refuseDamagedState(db: Kysely<StateDatabase>, dialect: StateDialect): Promise<void> {
  const present = await presentTables(db, dialect);
  const missing = [...(await ownTableNames())].filter((t) => !present.has(t));
  if (missing.length > 0)
    throw new LetheError(
      "AUDIT_FAILED",
      `${TAMPERED}: table${missing.length > 1 ? "s" : ""} ${missing.join(", ")} ${missing.length > 1 ? "are" : "is"} missing; ${RESTORE}`,
      { missing },
    );
  const rows = await sql<{
    id: unknown;
    seq: unknown;
    hash: unknown;
    frontier: unknown;
    keyed_from: unknown;
    mac: unknown;
  }>`
    select id, seq, hash, frontier, keyed_from, mac from ledger_head limit 2`.execute(db);
  const last = await sql<{ s: unknown }>`select max(seq) as s from ledger`.execute(db);
  const entries = Number(last.rows[0]?.s ?? 0) || 0;
  const head = rows.rows.find((r) => Number(r.id) === 1);
  const problem =
    rows.rows.length > 1 || (rows.rows.length === 1 && !head)
      ? "the ledger head table holds a row other than the head"
      : headRowProblem(head, entries);
  if (problem) throw new LetheError("AUDIT_FAILED", `${TAMPERED}: ${problem}; ${RESTORE}`);
}
