import type { VerifyResult } from "./verify.js";

/**
 * What `audit verify --json` and `GET /v1/audit/verify` show: the result
 * without the internals (the verified mark, the prune capture, the count of
 * checkpoints checked, which the text names).
 *
 * @example
 * result(verifyJson(r), verifyText(r, false), r.ok ? 0 : 4);
 */
export function verifyJson(r: VerifyResult): Omit<VerifyResult, "checkpoints" | "mark" | "captured"> {
  const { checkpoints: _c, mark: _m, captured: _k, ...json } = r;
  return json;
}

/** The human text of a verification result; stretches without a checkpoint are warnings, not failures. */
export function verifyText(r: VerifyResult, withCheckpoint: boolean): string {
  if (!r.ok)
    return `LEDGER VERIFICATION FAILED${r.firstBad !== undefined ? ` at entry ${r.firstBad}` : ""}: ${r.reason}`;
  const earlier = `1–${r.from} at an earlier verification; --full re-checks all`;
  const scope = r.full
    ? ""
    : r.from === r.entries
      ? ` (none recorded since the last verification; ${earlier})`
      : ` (entries ${r.from + 1}–${r.entries} checked now, ${earlier})`;
  const lines = [
    `Ledger OK: ${r.entries} entries${scope}, chain and ${r.checkpoints} signed checkpoint(s) verified${r.anchor ? ` from the signed prune anchor at entry ${r.anchor.size} (entries before ${r.anchor.before} were pruned)` : ""}${withCheckpoint ? ", extends the given checkpoint" : ""}.`,
  ];
  for (const s of r.uncovered ?? [])
    lines.push(
      `WARNING: entries ${s.from}–${s.to} (${s.entries}, the first recorded ${s.since}) ${s.checkpointedAt ? `waited until ${s.checkpointedAt} for a signed checkpoint` : "are not covered by any signed checkpoint"}: longer than ledger.checkpointEvery (a checkpoint was not made, or was deleted)`,
    );
  if (r.uncoveredMore) lines.push(`WARNING: ${r.uncoveredMore} more such stretch(es)`);
  for (const n of r.notes ?? []) lines.push(`Note: ${n}`);
  return lines.join("\n");
}
