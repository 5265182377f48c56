import type { BatchCounts } from "../executor/delete-batch.js";
import { emptyCounts } from "../executor/delete-batch.js";
import { holdFor } from "../executor/hold-rule.js";
import type { ErasureDeps } from "./erasure.js";
import type { EraseDatasetResult, EraseOptions, EraseResult, HoldHit, SubjectErasure } from "./erasure-types.js";
import type { Lineage } from "./lineage.js";
import type { DatasetDriver, Item } from "./types.js";

const MAX_RESIDUE_KEYS = 20;

/**
 * The dry run of an erasure: counts per dataset (and what holds would keep
 * back), nothing touched, exactly one summary ledger entry for the whole
 * run, carrying the subjects' HMACs.
 *
 * @example
 * const r = await dryRun(deps, ["user-42"], targets, lineage, {});
 */
export async function dryRun(
  deps: ErasureDeps,
  subjects: string[],
  targets: DatasetDriver[],
  lineage: Lineage,
  opts: EraseOptions,
): Promise<EraseResult> {
  const holds = await deps.holds.active();
  const out: SubjectErasure[] = [];
  for (const [i, subject] of subjects.entries()) {
    const sh = deps.executor.subjectHash(subject);
    const results: EraseDatasetResult[] = [];
    const hits: HoldHit[] = [];
    for (const ds of targets) {
      let found = 0;
      for await (const batch of ds.scanSubject(subject, ds.config.batchSize)) found += batch.length;
      const hold = found > 0 ? holdFor(holds, ds.config.name, sh) : undefined;
      const counts = { ...emptyCounts(), found, held: hold ? found : 0 };
      results.push(toResult(ds.config.name, counts, []));
      if (hold) hits.push({ id: hold.id, reason: hold.reason, dataset: ds.config.name, held: found });
    }
    const r = assemble(subject, sh, true, results, hits);
    r.lineage = await lineage.forDatasets(results.filter((d) => d.found > 0).map((d) => d.name));
    out.push(r);
    opts.onProgress?.({ dataset: "subjects", done: i + 1, expected: subjects.length });
  }
  const t = totals(out);
  await deps.executor.record([
    {
      action: "plan",
      reason: "erasure dry run",
      subjectHash: out.length === 1 ? out[0]?.subjectHash : undefined,
      data: {
        subjects: out.length,
        subjectHashes: out.map((s) => s.subjectHash),
        found: t.found,
        held: t.held,
        datasets: targets.map((d) => d.config.name),
        note: opts.reason === undefined ? undefined : deps.executor.scrubText(opts.reason, subjects),
      },
    },
  ]);
  return { dryRun: true, subjects: out };
}

/** One dataset's result from its batch counters and what the re-query still found. */
export function toResult(name: string, c: BatchCounts, residue: Item[]): EraseDatasetResult {
  return {
    name,
    found: c.found,
    deleted: c.deleted,
    held: c.held,
    filesRemoved: c.filesRemoved,
    failed: c.failed,
    filesFailed: c.failures.filter((f) => f.reason.startsWith("linked file")).length,
    residue: residue.length,
    failures: c.failures.slice(0, 100),
    residueKeys: residue.slice(0, MAX_RESIDUE_KEYS).map((i) => i.key),
  };
}

export function assemble(
  subject: string,
  subjectHash: string,
  dry: boolean,
  datasets: EraseDatasetResult[],
  holds: HoldHit[],
): SubjectErasure {
  const sum = (f: (d: EraseDatasetResult) => number) => datasets.reduce((n, d) => n + f(d), 0);
  return {
    subject,
    subjectHash,
    dryRun: dry,
    datasets,
    holds,
    held: sum((d) => d.held),
    failed: sum((d) => d.failed),
    residue: sum((d) => d.residue),
    lineage: [],
    actions: [],
  };
}

export function totals(subjects: SubjectErasure[]) {
  const t = { found: 0, deleted: 0, held: 0, failed: 0, residue: 0, filesRemoved: 0 };
  for (const s of subjects)
    for (const d of s.datasets) {
      t.found += d.found;
      t.deleted += d.deleted;
      t.held += d.held;
      t.failed += d.failed;
      t.residue += d.residue;
      t.filesRemoved += d.filesRemoved;
    }
  return t;
}
