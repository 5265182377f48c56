import pg from "pg";

/**
 * bigint columns (ledger seq, sizes, target keys) come back as JS numbers
 * while they are safe integers, as strings beyond. The parser is global to
 * the pg module, so every module that opens a pg connection imports this one
 * file: a target's integer keys must read the same whether or not lethe's
 * state is on PostgreSQL (the ledger keeps integer keys in clear, others hashed).
 *
 * @example
 * import "../../state/pg-int8.js";
 */
pg.types.setTypeParser(20, (v: string) => {
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : v;
});
