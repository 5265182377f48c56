import type { DatasetConfig, LetheConfig } from "../config/types.js";
import { emptyCounts } from "../executor/delete-batch.js";
import type { Executor } from "../executor/executor.js";
import { holdFor } from "../executor/hold-rule.js";
import type { EntryInput } from "../ledger/types.js";
import type { StateHandle } from "../state/open-state.js";
import type { DataMap, UnavailableDataset } from "./data-map.js";
import { assemble, dryRun, toResult, totals } from "./erasure-results.js";
import type {
  EraseDatasetResult,
  EraseOptions,
  EraseResult,
  HoldHit,
  HookOutcome,
  SubjectErasedHook,
  SubjectErasure,
} from "./erasure-types.js";
import { LetheError } from "./errors.js";
import type { ActiveHolds, Holds } from "./holds.js";
import { canonicalSubjectFor } from "./keys/subject-rules.js";
import { Lineage } from "./lineage.js";
import { clearPurgePending, purgePending } from "./purge-pending.js";
import { safeReason } from "./safe-reason.js";
import type { DatasetDriver, Item, PurgeReport } from "./types.js";

export interface ErasureDeps {
  config: LetheConfig;
  state: StateHandle;
  executor: Executor;
  holds: Holds;
  map: DataMap;
  /** Run per subject after a complete erasure (key destruction…). */
  hooks: readonly SubjectErasedHook[];
}

/** Shorter subject ids occur inside other values too often to be worth searching files for. */
const MIN_NEEDLE = 12;

/** What one run collects for the byte-level purge: erased values per store, and the stores erased from. */
interface PurgeWork {
  values: Map<string, Set<string>>;
  touched: Set<string>;
}

/**
 * The datasets an erasure covers: every dataset that can find items by subject, or the named ones.
 *
 * @example
 * erasureTargets(map, ["inference_logs"]).map((d) => d.config.name); // ["inference_logs"]
 */
export function erasureTargets(map: DataMap, names?: string[]): DatasetDriver[] {
  const targets = names ? names.map((n) => map.select(n)[0] as DatasetDriver) : map.select();
  const usable = targets.filter((d) => d.capabilities.subjects);
  if (names) {
    const bad = targets.filter((d) => !d.capabilities.subjects).map((d) => d.config.name);
    if (bad.length > 0)
      throw new LetheError("USAGE", `dataset(s) ${bad.join(", ")} have no subject; cannot erase from them`);
  }
  const down = names ? [] : erasureUnavailable(map);
  if (usable.length === 0 && down.length > 0)
    // Their datasets were left out of the map's selection: the reason is the stores, not the configuration.
    throw new LetheError(
      "STORE_ERROR",
      `nothing was erased: every dataset with a subject is on a store that cannot be reached (${down
        .map((u) => `dataset ${u.dataset}: store ${u.store}: ${u.reason}`)
        .join("; ")})`,
      { unavailable: down.map(({ dataset, store }) => ({ dataset, store })) },
    );
  if (usable.length === 0)
    throw new LetheError(
      "USAGE",
      "no dataset in the data map has a subject (datasets.*.subject, subjectFromPath or a pattern with {subject}); nothing could be erased",
    );
  return usable;
}

/**
 * Distinct, non-empty subject ids, validated before anything is touched:
 * canonical, and usable in each of `datasets` (an id a dataset's key pattern
 * cannot tell apart from another is refused: src/core/keys/subject-rules.ts).
 *
 * @example
 * normalizeSubjects(["user-42", "user-42"]); // ["user-42"]
 */
export function normalizeSubjects(subjects: string[], datasets: Iterable<DatasetConfig> = []): string[] {
  if (subjects.length === 0) throw new LetheError("USAGE", "name at least one subject (or --from FILE)");
  const among = [...datasets];
  return [
    ...new Set(
      subjects.map((s, i) => canonicalSubjectFor(among, s, subjects.length > 1 ? `subjects.${i}` : "subject")),
    ),
  ];
}

/**
 * Right to erasure: every item of each subject in every dataset that has a
 * subject, deleted through the one deletion path (held items split off and
 * recorded, intent → delete → outcome, linked files, reason `erasure`, no
 * expiry re-check), then verified by querying every dataset again. Without
 * `yes` it is a dry run: counts only and one summary ledger entry.
 *
 * @example
 * const r = await eraseSubjects(deps, ["user-42"], { yes: true });
 * if (r.subjects[0]?.residue) console.error("residue remains");
 */
export async function eraseSubjects(deps: ErasureDeps, input: string[], opts: EraseOptions = {}): Promise<EraseResult> {
  const covered = opts.datasets?.map((n) => deps.map.known(n)) ?? deps.config.datasets.values();
  const subjects = normalizeSubjects(input, covered);
  const targets = erasureTargets(deps.map, opts.datasets);
  const lineage = new Lineage(deps.map, deps.executor);
  if (!opts.yes) return dryRun(deps, subjects, targets, lineage, opts);

  const { executor } = deps;
  await executor.reconcile();
  const holds = await deps.holds.active();
  const names = targets.map((d) => d.config.name);
  const start = {
    kind: "erasure" as const,
    runId: opts.runId,
    // A request opens its run itself, together with its `erasure_processing` entry.
    opened: opts.runId !== undefined,
    reason: "erasure",
    data: {
      subjects: subjects.length,
      datasets: names,
      requestId: opts.requestId,
      note: opts.reason === undefined ? undefined : executor.scrubText(opts.reason, subjects),
    },
  };
  return executor.withRun(start, async (runId) => {
    const out: SubjectErasure[] = [];
    const work: PurgeWork = { values: new Map(), touched: new Set() };
    for (const [i, subject] of subjects.entries()) {
      out.push(await eraseOne(deps, subject, targets, holds, lineage, runId, opts, work));
      opts.onProgress?.({ dataset: "subjects", done: i + 1, expected: subjects.length });
    }
    const scrub = await purge(deps, work);
    // Subject datasets of a down store were not reached: the run cannot be complete.
    const unavailable = opts.datasets ? [] : erasureUnavailable(deps.map);
    const bad =
      out.reduce((n, s) => n + s.failed + s.residue, 0) + scrub.filter((s) => !s.complete).length + unavailable.length;
    const summary = {
      subjects: out.length,
      ...totals(out),
      scrub,
      ...(unavailable.length > 0 ? { unavailable: unavailable.map(({ dataset, store }) => ({ dataset, store })) } : {}),
    };
    return {
      result: { runId, dryRun: false, subjects: out, scrub, ...(unavailable.length > 0 ? { unavailable } : {}) },
      end: { status: bad > 0 ? "partial" : "ok", reason: bad > 0 ? `${bad} failed or residual` : "ok", data: summary },
    };
  });
}

/**
 * Datasets an erasure would cover (they find items by subject) whose store is down.
 *
 * @example
 * if (erasureUnavailable(map).length > 0) console.warn("an erasure now would be incomplete");
 */
export function erasureUnavailable(map: DataMap, names?: string[]): UnavailableDataset[] {
  return map
    .unavailable()
    .filter((u) => names === undefined || names.includes(u.dataset))
    .filter((u) => {
      const ds = map.known(u.dataset);
      return ds.subject !== undefined || ds.subjectFromPath !== undefined || keyPatternHasSubject(ds.pattern);
    });
}

/** A Redis key pattern names the subject (src/config/redis-pattern.ts allows it once). */
function keyPatternHasSubject(pattern: string | undefined): boolean {
  return pattern?.includes("{subject}") ?? false;
}

/**
 * Byte-level follow-up per store: stores that can purge (SQLite) search
 * their files for the erased values and rewrite them away; the others get
 * their usual scrub. Values stay in memory and are dropped here.
 */
async function purge(deps: ErasureDeps, work: PurgeWork): Promise<PurgeReport[]> {
  const reports: PurgeReport[] = [];
  const owed = await purgePending(deps.state);
  const configured = deps.config.erasure.scrub;
  for (const [name, store] of deps.map.stores) {
    if (store.purge && (work.touched.has(name) || owed.has(name))) {
      // A store owed a rewrite (an erasure there was interrupted) is rewritten, unless scrubbing is off.
      const mode = owed.has(name) && configured !== "checkpoint" ? "vacuum" : configured;
      const report = await store.purge([...(work.values.get(name) ?? [])], mode, configuredWindow(deps));
      reports.push(report);
      if (owed.has(name) && report.complete && mode === "vacuum") await clearPurgePending(deps.state, name);
    } else await store.scrub?.();
  }
  work.values.clear();
  return reports;
}

const configuredWindow = (deps: ErasureDeps): number => deps.config.erasure.scrubWindowMs;

async function eraseOne(
  deps: ErasureDeps,
  subject: string,
  targets: DatasetDriver[],
  holds: ActiveHolds,
  lineage: Lineage,
  runId: string,
  opts: EraseOptions,
  work: PurgeWork,
): Promise<SubjectErasure> {
  const { executor } = deps;
  const sh = executor.subjectHash(subject);
  const results: EraseDatasetResult[] = [];
  const hits: HoldHit[] = [];
  const heldIn = new Set<string>();
  const erased: { ds: DatasetDriver; counts: ReturnType<typeof emptyCounts> }[] = [];
  for (const ds of targets) {
    const counts = emptyCounts();
    const ctx = { holds, runId, reason: "erasure" };
    const values = collector(deps, work, ds, holdFor(holds, ds.config.name, sh) !== undefined);
    for await (const batch of ds.scanSubject(subject, ds.config.batchSize)) {
      // Read before the delete: afterwards only the purge can still find leftovers of these values.
      if (values && ds.contents) for (const v of await ds.contents(batch)) values.add(v);
      await executor.deleteBatch(ctx, ds, batch, counts);
    }
    // What the scan could not look at (an unreadable directory) may hold the subject's items: not done.
    await executor.recordScanProblems(ctx, ds, counts, sh);
    work.touched.add(ds.config.store);
    if (counts.held > 0) heldIn.add(ds.config.store);
    erased.push({ ds, counts });
  }
  // Only once every dataset is done: rows a concurrent writer added to an earlier one meanwhile are residue too.
  for (const { ds, counts } of erased) {
    const residue = await residual(ds, subject, sh, holds);
    results.push(toResult(ds.config.name, counts, residue));
    for (const [id, reason] of counts.holdsHit) hits.push({ id, reason, dataset: ds.config.name, held: counts.held });
  }
  // The id itself is in every row of the subject, so in every leftover copy, unless some rows are held.
  // (A repeated erasure thus still finds copies an earlier run in `checkpoint` mode left behind.)
  if (subject.length >= MIN_NEEDLE)
    for (const ds of targets) if (!heldIn.has(ds.config.store)) collector(deps, work, ds, false)?.add(subject);
  const r = assemble(subject, sh, false, results, hits);
  r.lineage = await lineage.forDatasets(results.filter((d) => d.found > 0).map((d) => d.name));
  const entries: EntryInput[] = lineage.entries(r.lineage, sh, runId);
  // A held item may be encrypted under the subject's key: destroying it would defeat the hold.
  if (r.held === 0 && !holds.subjects.has(sh)) {
    for (const hook of deps.hooks) {
      try {
        const outcome = await hook({
          subject,
          subjectHash: sh,
          runId,
          ...(opts.requestId ? { requestId: opts.requestId } : {}),
        });
        if (isOutcome(outcome)) r.actions.push(outcome);
      } catch (err) {
        r.failed++;
        entries.push({
          action: "failed",
          subjectHash: sh,
          runId,
          reason: `after-erasure hook: ${safeReason(err)}`,
        });
      }
    }
  }
  if (!opts.requestId)
    entries.push({
      action: "erasure_completed",
      subjectHash: sh,
      runId,
      reason: opts.reason === undefined ? "erasure" : executor.scrubText(opts.reason, [subject]),
      data: { datasets: results.map(({ failures: _f, residueKeys: _r, ...d }) => d), held: r.held, residue: r.residue },
    });
  if (entries.length > 0) await executor.record(entries);
  return r;
}

/** The set erased values of this dataset go into, when its store can purge and values are wanted. */
function collector(deps: ErasureDeps, work: PurgeWork, ds: DatasetDriver, held: boolean): Set<string> | undefined {
  const store = deps.map.stores.get(ds.config.store);
  if (held || !store?.purge || !ds.contents || deps.config.erasure.scrub !== "verify") return undefined;
  const set = work.values.get(ds.config.store) ?? new Set<string>();
  work.values.set(ds.config.store, set);
  return set;
}

/** Re-queries a dataset for the subject: whatever is still there and not held is residue. */
async function residual(ds: DatasetDriver, subject: string, sh: string, holds: ActiveHolds): Promise<Item[]> {
  if (holdFor(holds, ds.config.name, sh)) return [];
  const left: Item[] = [];
  for await (const batch of ds.scanSubject(subject, ds.config.batchSize)) left.push(...batch);
  return left;
}

function isOutcome(v: unknown): v is HookOutcome {
  return typeof v === "object" && v !== null && typeof (v as HookOutcome).action === "string";
}
