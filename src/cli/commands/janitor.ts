import type { Command } from "commander";
import { parseDuration } from "../../config/duration.js";
import { LetheError } from "../../core/errors.js";
import type { JanitorReport } from "../../core/janitor.js";
import { withLethe } from "../context.js";
import { table } from "../format.js";
import type { Runner } from "../program.js";
import { type GlobalOptions, result } from "../result.js";

export interface JanitorCliOptions extends GlobalOptions {
  apply?: boolean;
  grace?: string;
  force?: boolean;
}

function render(r: JanitorReport): string {
  const lines: string[] = [];
  if (r.findings.length === 0 && r.omitted.length === 0)
    lines.push(`Janitor: nothing escaped (grace ${r.graceSeconds}s).`);
  else {
    const rows: (string | number)[][] = [["kind", "where", "age (s)", r.applied ? "fixed" : ""]];
    for (const f of r.findings.slice(0, 200))
      rows.push([
        f.kind,
        f.dataset ? `${f.dataset} ${f.key ?? `#${f.keyHash?.slice(0, 12)}`}` : (f.path ?? f.id ?? f.reason ?? ""),
        f.age ?? "",
        r.applied ? (f.fixed ? "yes" : `no${f.reason ? `: ${f.reason}` : ""}`) : "",
      ]);
    lines.push(table(rows));
    if (r.findings.length > 200) lines.push(`… ${r.findings.length - 200} more (use --json)`);
    for (const o of r.omitted) lines.push(`${o.dataset}: ${o.count} more overdue item(s) not listed`);
    for (const d of r.datasets) if (d.refused) lines.push(`${d.name}: not deleted: ${d.refused}`);
  }
  for (const d of r.datasets)
    if (d.heldBack > 0) lines.push(`${d.name}: ${d.heldBack} item(s) past expiry kept by a legal hold (not findings)`);
  lines.push(
    "",
    "Retention lag (age of the oldest item past expiry that no hold keeps):",
    table([["dataset", "seconds"], ...r.lag.map((l) => [l.dataset, l.seconds])]),
  );
  const w = r.alert.webhook;
  if (typeof w === "object")
    lines.push(w.sent ? "Alert sent to alerts.webhook." : `Alert to alerts.webhook failed: ${w.error}`);
  return lines.join("\n");
}

/** `lethe janitor [--apply] [--grace 1h] [--force]`: exit 1 whenever something escaped. */
export function registerJanitor(program: Command, run: Runner): void {
  program
    .command("janitor")
    .description(
      "find items past expiry + grace, orphaned workspaces, stale leases and failed events; alert (exit 1); --apply fixes",
    )
    .option("--apply", "delete / shred what was found")
    .option("--grace <duration>", "how far past expiry counts as escaped (default janitor.grace)")
    .option("--force", "with --apply: go past safety.maxFraction")
    .action((_o, cmd: Command) =>
      run(async () => {
        const opts = cmd.optsWithGlobals<JanitorCliOptions>();
        const grace = opts.grace === undefined ? undefined : parseDuration(opts.grace);
        if (opts.grace !== undefined && grace === undefined)
          throw new LetheError("USAGE", `--grace: expected a duration like 1h, got ${opts.grace}`);
        return withLethe(opts, async (lethe) => {
          const r = await lethe.janitor({
            apply: opts.apply === true,
            force: opts.force === true,
            ...(grace !== undefined ? { graceSeconds: grace } : {}),
          });
          const escaped = r.findings.length > 0 || r.omitted.length > 0;
          return result(r, render(r), escaped ? 1 : 0);
        });
      }),
    );
}
