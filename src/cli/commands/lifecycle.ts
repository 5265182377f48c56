import type { Command } from "commander";
import type { Lethe } from "../../lethe.js";
import type { LifecycleSyncResult } from "../../stores/s3/lifecycle-sync.js";
import { withLethe } from "../context.js";
import { table } from "../format.js";
import type { Runner } from "../program.js";
import { type CommandResult, type GlobalOptions, result } from "../result.js";

export interface LifecycleCliOptions extends GlobalOptions {
  dryRun?: boolean;
}

/** `lethe lifecycle sync`: bucket lifecycle rules as a backstop; exit 1 when a bucket could not be written. */
export async function lifecycleSyncCommand(lethe: Lethe, opts: LifecycleCliOptions): Promise<CommandResult> {
  const r = await lethe.lifecycleSync({ dryRun: opts.dryRun === true });
  const bad = r.buckets.some((b) => b.status === "failed" || b.status === "unsupported");
  return result(r, render(r), bad ? 1 : 0);
}

function render(r: LifecycleSyncResult): string {
  const rows: (string | number)[][] = [["bucket", "status", "rule", "prefix", "days", "noncurrent days"]];
  for (const b of r.buckets) {
    if (b.rules.length === 0) rows.push([b.bucket, b.status, "(none: stale lethe rules removed)", "", "", ""]);
    for (const rule of b.rules)
      rows.push([b.bucket, b.status, rule.id, rule.prefix || "(whole bucket)", rule.days, rule.noncurrentDays ?? ""]);
  }
  const lines = [r.dryRun ? "Dry run: nothing written." : "Lifecycle rules:", table(rows)];
  for (const b of r.buckets) if (b.reason) lines.push(`  ${b.bucket}: ${b.reason}`);
  for (const s of r.skipped) lines.push(`  skipped dataset ${s.dataset}: ${s.reason}`);
  return lines.join("\n");
}

export function registerLifecycle(program: Command, run: Runner): void {
  const lifecycle = program.command("lifecycle").description("bucket lifecycle rules matching s3 datasets' retention");
  lifecycle
    .command("sync")
    .description("write lifecycle expiration rules (days rounded up) as a storage-level backstop")
    .option("--dry-run", "show the rules without writing them")
    .action((_o, cmd: Command) =>
      run(async () => {
        const opts = cmd.optsWithGlobals<LifecycleCliOptions>();
        return withLethe(opts, (lethe) => lifecycleSyncCommand(lethe, opts));
      }),
    );
}
