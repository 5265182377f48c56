import { readFileSync } from "node:fs";
import type { Command } from "commander";
import type { EraseResult, SubjectErasure } from "../../core/erasure-types.js";
import { LetheError } from "../../core/errors.js";
import type { Lethe } from "../../lethe.js";
import { withLethe } from "../context.js";
import { table } from "../format.js";
import type { Runner } from "../program.js";
import { progressReporter } from "../progress.js";
import { type CommandResult, type GlobalOptions, result } from "../result.js";

export interface EraseCliOptions extends GlobalOptions {
  from?: string;
  yes?: boolean;
  reason?: string;
}

/** One subject id per line; surrounding whitespace and blank lines are ignored. */
export function readSubjects(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new LetheError("USAGE", `--from ${path}: cannot read: ${(err as Error).message}`);
  }
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}

/**
 * 1 when anything failed or remains (items, or erased bytes a store could not
 * purge from its files), 3 when a hold kept something back, else 0. A dry run is 0.
 */
export function eraseExitCode(r: EraseResult): number {
  if (r.dryRun) return 0;
  if (r.subjects.some((s) => s.failed > 0 || s.residue > 0) || r.scrub?.some((p) => !p.complete)) return 1;
  if ((r.unavailable?.length ?? 0) > 0) return 1;
  return r.subjects.some((s) => s.held > 0) ? 3 : 0;
}

/** `lethe erase`: a single subject keeps the flat DESIGN.md shape; several give `{dryRun, runId?, subjects}`. */
export async function eraseCommand(lethe: Lethe, all: string[], opts: EraseCliOptions): Promise<CommandResult> {
  const r: EraseResult = await lethe.erase(all, {
    yes: opts.yes === true,
    ...(opts.reason !== undefined ? { reason: opts.reason } : {}),
    onProgress: progressReporter(!opts.json && all.length > 1),
  });
  const code = eraseExitCode(r);
  const text = [
    r.subjects.length === 1 ? renderOne(r.subjects[0] as SubjectErasure, r.runId) : renderMany(r),
    ...renderScrub(r),
    ...(r.unavailable ?? []).map((u) => `NOT ERASED: ${u.dataset}: store ${u.store} is unreachable: ${u.reason}`),
  ].join("\n");
  const run = {
    ...(r.runId ? { runId: r.runId } : {}),
    ...(r.scrub ? { scrub: r.scrub } : {}),
    ...(r.unavailable ? { unavailable: r.unavailable } : {}),
  };
  if (r.subjects.length === 1) {
    const { subject, dryRun, ...rest } = r.subjects[0] as SubjectErasure;
    return result({ subject, dryRun, ...rest, ...run }, text, code);
  }
  return result({ dryRun: r.dryRun, subjects: r.subjects, ...run }, text, code);
}

/** Scrubbing is per run, not per subject: one block under its own heading, after every subject. */
function renderScrub(r: EraseResult): string[] {
  if (!r.scrub?.length) return [];
  const heading =
    r.subjects.length > 1
      ? `Store files, after the whole run (all ${r.subjects.length} subjects):`
      : "Store files, after the run:";
  return [
    heading,
    ...r.scrub.map((p) =>
      !p.complete
        ? `  FILES NOT CLEAN: store ${p.store}: ${p.reason}`
        : p.vacuumed
          ? `  store ${p.store}: ${p.found > 0 ? `${p.found} erased value(s) still sat in free space of its file; ` : ""}rewritten with VACUUM`
          : p.scannedBytes > 0
            ? `  store ${p.store}: ${p.scannedBytes} bytes of its files searched, no erased value left`
            : p.mode === "verify"
              ? `  store ${p.store}: WAL checkpointed; no erased value of 12+ characters to search its files for`
              : `  store ${p.store}: WAL checkpointed (scrub: ${p.mode})`,
    ),
  ];
}

function details(s: SubjectErasure): string[] {
  const lines: string[] = [];
  for (const h of s.holds)
    lines.push(`  held back by hold ${h.id} (${h.held} item(s) in ${h.dataset}), reason recorded: ${h.reason}`);
  for (const d of s.datasets) {
    if (d.residue > 0)
      lines.push(
        `  RESIDUE: ${d.name} still has ${d.residue} item(s) of the subject after deletion (keys: ${d.residueKeys.join(", ")})`,
      );
    for (const f of d.failures.slice(0, 20))
      lines.push(`  failed: ${d.name} ${f.key}: ${f.code ? `${f.code}: ` : ""}${f.reason}`);
  }
  for (const l of s.lineage)
    for (const d of l.derived) {
      const more = d.count > d.artifacts.length ? ` (+${d.count - d.artifacts.length} more)` : "";
      lines.push(
        `  lineage: ${d.dataset} was trained from ${l.dataset}; retrain or retire: ${d.artifacts.slice(0, 10).join(", ") || "(no listing)"}${more}`,
      );
    }
  for (const a of s.actions) lines.push(`  after erasure: ${a.action}${a.detail ? ` (${a.detail})` : ""}`);
  return lines;
}

function renderOne(s: SubjectErasure, runId: string | undefined): string {
  const head = s.dryRun ? `Erasure dry run (nothing deleted; add --yes to erase):` : `Erasure, run ${runId}:`;
  const rows: (string | number)[][] = s.dryRun
    ? [["dataset", "found", "would be held"], ...s.datasets.map((d) => [d.name, d.found, d.held])]
    : [["dataset", "found", "deleted", "held", "files", "failed", "residue"]];
  if (!s.dryRun)
    for (const d of s.datasets) rows.push([d.name, d.found, d.deleted, d.held, d.filesRemoved, d.failed, d.residue]);
  const verdict = s.dryRun
    ? ""
    : s.failed + s.residue > 0
      ? "NOT COMPLETE: items failed or remain (see above)."
      : s.held > 0
        ? "Done, except what legal holds keep back."
        : "Done: verified that nothing of the subject remains in any dataset.";
  return [head, table(rows), ...details(s), verdict].filter(Boolean).join("\n");
}

function renderMany(r: EraseResult): string {
  const rows: (string | number)[][] = [["subject", "found", "deleted", "held", "failed", "residue"]];
  const sum = (s: SubjectErasure, f: (d: SubjectErasure["datasets"][number]) => number) =>
    s.datasets.reduce((n, d) => n + f(d), 0);
  for (const s of r.subjects)
    rows.push([s.subject, sum(s, (d) => d.found), sum(s, (d) => d.deleted), s.held, s.failed, s.residue]);
  const lines = [
    r.dryRun ? "Erasure dry run (nothing deleted; add --yes to erase):" : `Erasure, run ${r.runId}:`,
    table(rows),
  ];
  for (const s of r.subjects) {
    const d = details(s);
    if (d.length > 0) lines.push(`${s.subject}:`, ...d);
  }
  return lines.join("\n");
}

export function registerErase(program: Command, run: Runner): void {
  program
    .command("erase [subjects...]")
    .description("erase every item of the subject(s) in every dataset with a subject (dry run without --yes)")
    .option("--from <file>", "subject ids, one per line")
    .option("--yes", "really delete (otherwise a dry run)")
    .option("--reason <text>", "why, recorded on the ledger (e.g. the ticket)")
    .action((subjects: string[], _o, cmd: Command) =>
      run(async () => {
        const opts = cmd.optsWithGlobals<EraseCliOptions>();
        // Read and check the subjects before opening anything.
        const all = [...subjects, ...(opts.from ? readSubjects(opts.from) : [])];
        if (all.length === 0) throw new LetheError("USAGE", "name a SUBJECT or --from FILE");
        return withLethe(opts, (lethe) => eraseCommand(lethe, all, opts));
      }),
    );
}
