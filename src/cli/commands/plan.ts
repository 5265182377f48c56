import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import { type Plan, planSummary } from "../../core/planner.js";
import type { Lethe } from "../../lethe.js";
import { storesFor, withLethe } from "../context.js";
import { bytes, table } from "../format.js";
import type { Runner } from "../program.js";
import { type CommandResult, type GlobalOptions, result } from "../result.js";

export interface PlanCliOptions extends GlobalOptions {
  dataset?: string;
  out?: string;
}

/** `lethe plan`: a dry run, optionally written to a reviewable plan file. */
export async function planCommand(lethe: Lethe, opts: PlanCliOptions): Promise<CommandResult> {
  const plan = await lethe.plan({
    ...(opts.dataset ? { dataset: opts.dataset } : {}),
    withItems: opts.out !== undefined,
  });
  if (opts.out) writeFileSync(opts.out, `${JSON.stringify(plan)}\n`, { mode: 0o600 });
  // Datasets of a down store are not in the plan: named, and the command exits 1.
  const down = opts.dataset ? [] : lethe.map.unavailable();
  const lines = down.map((u) => `not planned: ${u.dataset}: store ${u.store} is unreachable: ${u.reason}`);
  return result(
    { ...planSummary(plan), ...(down.length > 0 ? { unavailable: down } : {}) },
    [render(plan, opts.out), ...lines].join("\n"),
    down.length > 0 ? 1 : 0,
  );
}

function render(plan: Plan, out: string | undefined): string {
  const rows: (string | number)[][] = [["dataset", "store", "total", "expired", "held", "size"]];
  for (const d of plan.datasets) rows.push([d.name, d.store, d.total, d.expired, d.held, bytes(d.bytes)]);
  const expired = plan.datasets.reduce((n, d) => n + (d.action === "expire" ? 0 : d.expired - d.held), 0);
  const shortened = plan.datasets.reduce((n, d) => n + (d.action === "expire" ? d.expired - d.held : 0), 0);
  const refused = plan.datasets.filter((d) => d.refused);
  const why = plan.datasets
    .filter((d) => d.reasons)
    .map(
      (d) =>
        `  ${d.name}: ${Object.entries(d.reasons ?? {})
          .map(([r, n]) => `${n} ${r}`)
          .join(", ")}`,
    );
  return [
    `Plan ${plan.planId} at ${plan.at} (dry run, nothing deleted)`,
    table(rows),
    ...why,
    `${expired} item(s) would be deleted.${shortened > 0 ? ` ${shortened} key(s) would get a TTL of their dataset's retention (action: expire).` : ""}${out ? ` Plan written to ${out}; apply it with: lethe apply --plan ${out}` : ""}`,
    ...(refused.length > 0
      ? [
          "lethe apply would refuse (safety limit; review, then --force if intended):",
          ...refused.map((d) => `  ${d.refused}`),
        ]
      : []),
  ].join("\n");
}

export function registerPlan(program: Command, run: Runner): void {
  program
    .command("plan")
    .description("dry run: what would be deleted now, per dataset")
    .option("--dataset <name>", "only this dataset")
    .option("--out <file>", "write the plan (with every item key and a content hash) to a file")
    .action((_o, cmd: Command) =>
      run(async () => {
        const opts = cmd.optsWithGlobals<PlanCliOptions>();
        return withLethe(opts, (lethe) => planCommand(lethe, opts), storesFor(opts.dataset));
      }),
    );
}
