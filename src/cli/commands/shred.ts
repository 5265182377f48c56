import { existsSync } from "node:fs";
import type { Command } from "commander";
import { type ShreddedFile, shredPaths } from "../../executor/shred-paths.js";
import { withLethe } from "../context.js";
import type { Runner } from "../program.js";
import { type GlobalOptions, result } from "../result.js";

const CAVEAT =
  "Note: overwriting in place is not a guarantee on copy-on-write, journaling or flash storage; use crypto-shredding there.";

/** A config is available when named (--config, LETHE_CONFIG) or ./lethe.yaml exists. */
function configAvailable(opts: GlobalOptions): boolean {
  return opts.config !== undefined || process.env.LETHE_CONFIG !== undefined || existsSync("lethe.yaml");
}

/** `lethe shred PATH…`: overwrite in place, sync, unlink; on the ledger when a config is available; exit 1 if any file was refused. */
export function registerShred(program: Command, run: Runner): void {
  program
    .command("shred <paths...>")
    .description("overwrite files in place, sync, then remove them (recorded on the ledger when a config is available)")
    .action((paths: string[], _o, cmd: Command) =>
      run(async () => {
        const opts = cmd.optsWithGlobals<GlobalOptions>();
        const recorded = configAvailable(opts);
        const files: ShreddedFile[] = recorded
          ? await withLethe(opts, (lethe) => lethe.shred(paths))
          : await shredPaths(paths);
        const failed = files.filter((f) => !f.ok).length;
        const text = [
          ...files.map((f) => (f.ok ? `shredded ${f.path} (${f.bytes} bytes)` : `refused ${f.path}: ${f.reason}`)),
          recorded ? "Recorded on the ledger." : "No lethe config found: not recorded on a ledger.",
          CAVEAT,
        ].join("\n");
        return result({ files, recorded, caveat: CAVEAT }, text, failed > 0 ? 1 : 0);
      }),
    );
}
