import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { LetheError } from "../../core/errors.js";
import type { Plan } from "../../core/planner.js";
import type { ApplyResult } from "../../core/retention.js";
import type { Lethe } from "../../lethe.js";
import { storesFor, withLethe } from "../context.js";
import { table } from "../format.js";
import type { Runner } from "../program.js";
import { progressReporter } from "../progress.js";
import { type CommandResult, type GlobalOptions, result } from "../result.js";

export interface ApplyCliOptions extends GlobalOptions {
  dataset?: string;
  plan?: string;
  force?: boolean;
}

function readPlan(path: string): Plan {
  try {
    const p = JSON.parse(readFileSync(path, "utf8")) as Plan;
    if (!p || typeof p.planId !== "string" || !Array.isArray(p.datasets)) throw new Error("not a lethe plan");
    return p;
  } catch (err) {
    throw new LetheError("USAGE", `--plan ${path}: cannot read a plan file: ${(err as Error).message}`);
  }
}

/** `lethe apply`: deletes expired items; exit 1 when some failed. */
export async function applyCommand(lethe: Lethe, opts: ApplyCliOptions): Promise<CommandResult> {
  const plan = opts.plan ? readPlan(opts.plan) : undefined;
  const r = await lethe.apply({
    ...(opts.dataset ? { dataset: opts.dataset } : {}),
    ...(plan ? { plan } : {}),
    force: opts.force === true,
    onProgress: progressReporter(!opts.json),
  });
  const failed = r.datasets.reduce((n, d) => n + d.failed, 0);
  return result(r, render(r), failed > 0 || (r.unavailable?.length ?? 0) > 0 ? 1 : 0);
}

function render(r: ApplyResult): string {
  const rows: (string | number)[][] = [["dataset", "expired", "deleted", "held", "failed", "files"]];
  for (const d of r.datasets) rows.push([d.name, d.expired, d.deleted, d.held, d.failed, d.filesRemoved]);
  const lines = [`Run ${r.runId}`, table(rows)];
  for (const d of r.datasets)
    if (d.ttlSet) lines.push(`  ${d.name}: TTL set or lowered to the retention on ${d.ttlSet} key(s) (action: expire)`);
  for (const u of r.unavailable ?? [])
    lines.push(`  not run: ${u.dataset}: store ${u.store} is unreachable: ${u.reason}`);
  for (const d of r.datasets)
    for (const f of d.failures.slice(0, 20))
      lines.push(
        `  failed: ${d.name} key ${typeof f.key === "number" ? f.key : "(hashed on the ledger)"}: ${f.code ? `${f.code}: ` : ""}${f.reason}`,
      );
  return lines.join("\n");
}

export function registerApply(program: Command, run: Runner): void {
  program
    .command("apply")
    .description("delete expired items (with --plan: only that reviewed plan's items that are still expired)")
    .option("--dataset <name>", "only this dataset")
    .option("--plan <file>", "a plan written by lethe plan --out")
    .option("--force", "go past the safety.maxFraction limit")
    .action((_o, cmd: Command) =>
      run(async () => {
        const opts = cmd.optsWithGlobals<ApplyCliOptions>();
        return withLethe(opts, (lethe) => applyCommand(lethe, opts), storesFor(opts.dataset));
      }),
    );
}
