import type { LetheConfig } from "../config/types.js";
import type { Executor } from "../executor/executor.js";
import type { EntryInput } from "../ledger/types.js";
import { notify } from "../notify/notify.js";
import type { StateHandle } from "../state/open-state.js";
import type { Events } from "../transient/events.js";
import type { TransientService } from "../transient/workspace-manager.js";
import { fixWorkspace, scanWorkspaces, type WorkspaceFinding } from "../transient/workspace-scan.js";
import type { DataMap } from "./data-map.js";
import { LetheError } from "./errors.js";
import type { Holds } from "./holds.js";
import { type AlertOutcome, sendAlert } from "./janitor-alert.js";
import { checkDataset, type DatasetCheck, fixDataset } from "./janitor-datasets.js";

export type FindingKind =
  | "expired_item"
  | "workspace_orphaned"
  | "lease_expired"
  | "lease_abandoned"
  | "workspace_foreign"
  | "workspaces_unavailable"
  | "event_failed"
  | "event_pending";

/** DESIGN.md shape `{dataset?, kind, path?, key?, age?}` plus a few additive fields. */
export interface JanitorFinding {
  kind: FindingKind;
  dataset?: string;
  path?: string;
  /** Integer primary keys only; other keys appear as keyHash (HMAC), never raw. */
  key?: number;
  keyHash?: string;
  age?: number;
  id?: string;
  plaintext?: boolean;
  reason?: string;
  fixed?: boolean;
}

export interface JanitorReport {
  runId: string;
  at: string;
  graceSeconds: number;
  applied: boolean;
  findings: JanitorFinding[];
  /** Findings per kind, including items beyond the listing cap. */
  counts: Partial<Record<FindingKind, number>>;
  /** Overdue items per dataset that were counted but not listed (listing cap). */
  omitted: { dataset: string; count: number }[];
  lag: { dataset: string; seconds: number }[];
  /** `heldBack`: items past expiry + grace an active hold keeps (never findings). */
  datasets: {
    name: string;
    overdue: number;
    heldBack: number;
    deleted?: number;
    held?: number;
    failed?: number;
    refused?: string;
  }[];
  alert: { webhook: AlertOutcome | "not configured" | "not needed"; logged: boolean };
}

export interface JanitorOptions {
  apply?: boolean;
  /** Seconds; default `janitor.grace`. */
  graceSeconds?: number;
  /** Go past safety.maxFraction when deleting overdue items. */
  force?: boolean;
  now?: Date;
  /** Items listed (and recorded one by one) per dataset; the rest are counted. Default 1000. */
  maxListed?: number;
  /** Called with the run id as soon as the run exists (the scheduler records it on its claim). */
  onRunStarted?: (runId: string) => void | Promise<void>;
}

export interface JanitorDeps {
  config: LetheConfig;
  state: StateHandle;
  executor: Executor;
  map: DataMap;
  holds: Holds;
  transient: TransientService;
  events: Events;
  logger: { warn(msg: string): void };
}

function itemKey(key: string | number, dataset: string, executor: Executor): Pick<JanitorFinding, "key" | "keyHash"> {
  return typeof key === "number" && Number.isSafeInteger(key) ? { key } : { keyHash: executor.keyHash(dataset, key) };
}

/**
 * `lethe janitor`: proves nothing escaped. It finds dataset items past expiry
 * + grace, workspace directories without an open lease, leases past expiry
 * (or whose process died) and failed or undelivered events; records each
 * finding on the ledger (`janitor_found`), optionally fixes them (`--apply`,
 * through the same deletion path as everything else) and raises an alert:
 * a webhook POST, a log line, and (in the CLI) exit code 1.
 *
 * @example
 * const report = await lethe.janitor({ apply: true });
 * if (report.findings.length > 0) process.exitCode = 1;
 */
export async function runJanitor(deps: JanitorDeps, opts: JanitorOptions = {}): Promise<JanitorReport> {
  const now = opts.now ?? new Date();
  const start = {
    kind: "janitor" as const,
    reason: "janitor",
    data: { apply: opts.apply === true, at: now.toISOString() },
    onRunStarted: opts.onRunStarted,
  };
  return deps.executor.withRun(start, async (runId) => {
    const report = await janitorPass(deps, opts, runId, now);
    const found = report.findings.length > 0 || report.omitted.length > 0;
    const held = report.datasets.reduce((n, d) => n + (d.heldBack ?? 0), 0);
    const summary = { counts: report.counts, applied: report.applied, held };
    return {
      result: report,
      // Held items are counted here, once per pass, not as one `held` entry per item every 15 minutes.
      end: { status: found ? "findings" : "ok", reason: found ? "findings" : "ok", data: summary, checkpoint: false },
    };
  });
}

async function janitorPass(deps: JanitorDeps, opts: JanitorOptions, runId: string, now: Date): Promise<JanitorReport> {
  const { executor, map } = deps;
  const grace = opts.graceSeconds ?? deps.config.janitor.graceSeconds;
  const cap = opts.maxListed ?? 1000;
  const holds = await deps.holds.active(now);
  const findings: JanitorFinding[] = [];
  const entries: EntryInput[] = [];
  const found = (f: JanitorFinding, e: Omit<EntryInput, "action" | "runId">) => {
    findings.push(f);
    entries.push({ action: "janitor_found", runId, reason: f.kind, ...e });
  };

  // An unusable transient root (e.g. squatted by another user in /dev/shm) fails the directory part only: leases
  // and every dataset are still checked. Reported by its error code and lethe's own message (the configured root,
  // nothing of the app's). Any other failure of the scan (the state, a bug) is not disguised as this one.
  const scan = await scanWorkspaces(deps.transient, now, grace);
  const workspaces: { w: WorkspaceFinding; finding: JanitorFinding }[] = [];
  if (scan.unavailable !== undefined) {
    const err = scan.unavailable;
    const code = err instanceof LetheError ? err.code : ((err as NodeJS.ErrnoException).code ?? "INTERNAL");
    const why = err instanceof LetheError ? err.message : code;
    found(
      {
        kind: "workspaces_unavailable",
        reason: `workspaces not checked: ${why}`,
        ...(opts.apply ? { fixed: false } : {}),
      },
      { data: { error: code } },
    );
  }
  for (const w of scan.findings) {
    const finding: JanitorFinding = {
      kind: w.kind,
      id: w.id,
      path: w.path,
      age: w.age,
      ...(w.plaintext ? { plaintext: true } : {}),
    };
    workspaces.push({ w, finding });
    found(finding, { data: { workspace: w.id, age: w.age, plaintext: w.plaintext ?? false } });
  }

  const checks: DatasetCheck[] = [];
  const itemFindings = new Map<string, { finding: JanitorFinding; key: string | number }[]>();
  for (const ds of map.select()) {
    const c = await checkDataset(ds, holds, executor, now, grace, cap);
    checks.push(c);
    const mine: { finding: JanitorFinding; key: string | number }[] = [];
    itemFindings.set(c.name, mine);
    for (const l of c.listed) {
      const finding: JanitorFinding = {
        kind: "expired_item",
        dataset: c.name,
        ...itemKey(l.item.key, c.name, executor),
        ...(l.age !== undefined ? { age: l.age } : {}),
        ...(l.reason ? { reason: l.reason } : {}),
      };
      mine.push({ finding, key: l.item.key });
      const data = { age: l.age, ...(l.reason ? { why: l.reason } : {}) };
      found(finding, { dataset: c.name, key: l.item.key, subject: l.item.subject, data });
    }
    if (c.overdue > c.listed.length)
      entries.push({
        action: "janitor_found",
        runId,
        dataset: c.name,
        reason: "expired_item",
        data: { overdue: c.overdue, listed: c.listed.length },
      });
  }

  const events = await deps.events.queue.problems(now, grace);
  for (const e of events) {
    const kind: FindingKind = e.status === "failed" ? "event_failed" : "event_pending";
    const age = Math.max(0, Math.round((now.getTime() - Date.parse(e.receivedAt)) / 1000));
    found(
      {
        kind,
        id: e.id,
        age,
        reason: `${e.status} after ${e.attempts} attempt(s)${e.lastError ? `: ${e.lastError.slice(0, 200)}` : ""}`,
      },
      { data: { event: e.id, status: e.status, attempts: e.attempts, age } },
    );
  }
  if (entries.length > 0)
    for (let i = 0; i < entries.length; i += 1000) await executor.record(entries.slice(i, i + 1000));

  if (opts.apply) {
    for (const { w, finding } of workspaces) {
      const r = await fixWorkspace(deps.transient, w);
      Object.assign(finding, { fixed: r.fixed }, r.reason ? { reason: r.reason } : {});
    }
    for (const c of checks) {
      const ds = map.datasets.get(c.name);
      if (!ds) continue;
      await fixDataset({ config: deps.config, executor, holds, runId, force: opts.force === true }, ds, c, now, grace);
      const mine = itemFindings.get(c.name) ?? [];
      if (mine.length === 0) continue;
      // A shortened lifetime fixes an `action: expire` item: it no longer exceeds the retention.
      const keys = mine.map((m) => m.key);
      const still =
        ds.config.action === "expire"
          ? new Set((await ds.fetchExpired(keys, now)).map((i) => String(i.key)))
          : await ds.existing(keys);
      for (const m of mine) m.finding.fixed = !still.has(String(m.key));
      if (c.refused) for (const m of mine) m.finding.reason = c.refused;
    }
    const eventFindings = findings.filter((f) => f.kind === "event_failed" || f.kind === "event_pending");
    for (const f of eventFindings) if (f.id) await deps.events.queue.rearm(f.id);
    if (eventFindings.length > 0) await deps.events.process();
    for (const f of eventFindings) if (f.id) f.fixed = (await deps.events.get(f.id))?.status === "done";
  }
  for (const store of map.stores.values()) await store.scrub?.();

  const report = build(runId, now, grace, opts.apply === true, findings, checks);
  if (findings.length > 0 || report.omitted.length > 0) await alert(deps, report);
  return report;
}

function build(
  runId: string,
  now: Date,
  grace: number,
  applied: boolean,
  findings: JanitorFinding[],
  checks: DatasetCheck[],
): JanitorReport {
  const counts: Partial<Record<FindingKind, number>> = {};
  for (const f of findings) if (f.kind !== "expired_item") counts[f.kind] = (counts[f.kind] ?? 0) + 1;
  const overdue = checks.reduce((n, c) => n + c.overdue, 0);
  if (overdue > 0) counts.expired_item = overdue;
  return {
    runId,
    at: now.toISOString(),
    graceSeconds: grace,
    applied,
    findings,
    counts,
    omitted: checks
      .filter((c) => c.overdue > c.listed.length)
      .map((c) => ({ dataset: c.name, count: c.overdue - c.listed.length })),
    lag: checks.map((c) => ({ dataset: c.name, seconds: c.lagSeconds })),
    datasets: checks.map(({ listed: _l, lagSeconds: _s, ...rest }) => rest),
    alert: { webhook: "not needed", logged: false },
  };
}

async function alert(deps: JanitorDeps, report: JanitorReport): Promise<void> {
  const total = Object.values(report.counts).reduce((n, v) => n + (v ?? 0), 0);
  const parts = Object.entries(report.counts).map(([k, v]) => `${k}=${v}`);
  deps.logger.warn(
    `janitor: ${total} finding(s) (${parts.join(", ")})${report.applied ? "; --apply fixed what it could" : ""}; run ${report.runId}`,
  );
  report.alert.logged = true;
  const summary = {
    runId: report.runId,
    applied: report.applied,
    counts: report.counts,
    lag: report.lag,
    omitted: report.omitted,
  };
  await notify(deps.state.db, deps.config.notifications, "janitor.findings", summary, { now: new Date(report.at) });
  const url = deps.config.alerts.webhook;
  if (!url) {
    report.alert.webhook = "not configured";
    return;
  }
  report.alert.webhook = await sendAlert(deps, url, {
    source: "lethe",
    kind: "janitor",
    runId: report.runId,
    at: report.at,
    applied: report.applied,
    counts: report.counts,
    lag: report.lag,
    // Ids, paths of random workspace names, integer keys and HMACs only: nothing personal leaves the process.
    findings: report.findings.slice(0, 500).map(({ reason: _r, ...f }) => f),
  });
}
