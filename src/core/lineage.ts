import type { Executor } from "../executor/executor.js";
import type { EntryInput } from "../ledger/types.js";
import type { DataMap } from "./data-map.js";

/** Artifacts listed per derived dataset; the count is always complete. */
export const MAX_ARTIFACTS = 1000;
/** Artifact keys recorded on one ledger entry (the count is always recorded). */
const MAX_LEDGER_ARTIFACTS = 100;

export interface DerivedArtifacts {
  dataset: string;
  /** Items of the derived dataset at the time of the erasure. */
  count: number;
  artifacts: (string | number)[];
  truncated?: boolean;
}

/** A dataset that held the subject's data, and the models declared as trained from it. */
export interface LineageEntry {
  dataset: string;
  derived: DerivedArtifacts[];
}

/**
 * Model lineage: a dataset may declare `derived: [checkpoints]`. When a
 * subject's data was found in it, every artifact of those derived datasets
 * present now is listed, because any of them may have been trained on it and
 * must be retrained or retired. lethe cannot tell which checkpoint read which
 * row, so it lists them all rather than guess. Listings are cached per run.
 *
 * @example
 * const lineage = new Lineage(map, executor);
 * const entries = await lineage.forDatasets(["training_records"]);
 */
export class Lineage {
  private readonly cache = new Map<string, DerivedArtifacts>();

  constructor(
    private readonly map: DataMap,
    private readonly ledger: Pick<Executor, "keyHash">,
  ) {}

  async forDatasets(names: string[]): Promise<LineageEntry[]> {
    const out: LineageEntry[] = [];
    for (const name of names) {
      const derived = this.map.datasets.get(name)?.config.derived ?? [];
      if (derived.length === 0) continue;
      const list: DerivedArtifacts[] = [];
      for (const d of derived) list.push(await this.artifacts(d));
      out.push({ dataset: name, derived: list });
    }
    return out;
  }

  private async artifacts(name: string): Promise<DerivedArtifacts> {
    const hit = this.cache.get(name);
    if (hit) return hit;
    const ds = this.map.datasets.get(name);
    const out: DerivedArtifacts = { dataset: name, count: 0, artifacts: [] };
    // Keys of a dataset that carries subjects name other people: count those, never list them.
    if (ds?.list && !ds.capabilities.subjects) {
      for await (const batch of ds.list(ds.config.batchSize)) {
        out.count += batch.length;
        for (const item of batch) if (out.artifacts.length < MAX_ARTIFACTS) out.artifacts.push(item.key);
      }
    } else if (ds) out.count = await ds.count();
    out.artifacts.sort((a, b) => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0));
    if (out.count > out.artifacts.length) out.truncated = true;
    this.cache.set(name, out);
    return out;
  }

  /** One `lineage` ledger entry per source dataset; non-integer artifact keys as their HMAC. */
  entries(lineage: LineageEntry[], subjectHash: string, runId: string): EntryInput[] {
    return lineage.map((l) => ({
      action: "lineage",
      dataset: l.dataset,
      subjectHash,
      runId,
      reason: "derived artifacts were trained on erased data: retrain or retire them",
      data: {
        derived: l.derived.map((d) => ({
          dataset: d.dataset,
          count: d.count,
          artifacts: d.artifacts
            .slice(0, MAX_LEDGER_ARTIFACTS)
            .map((k) => (typeof k === "number" && Number.isSafeInteger(k) ? k : this.ledger.keyHash(d.dataset, k))),
        })),
      },
    }));
  }
}
