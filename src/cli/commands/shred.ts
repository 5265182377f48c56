import type { Command } from "commander";
import { shredFile } from "../../crypto/shred.js";
import type { Runner } from "../program.js";
import { type GlobalOptions, result } from "../result.js";

const CAVEAT =
  "Note: overwriting in place is not a guarantee on copy-on-write, journaling or flash storage; use crypto-shredding there.";

/** `lethe shred PATH…`: overwrite in place, sync, unlink; exit 1 if any file was refused. */
export function registerShred(program: Command, run: Runner): void {
  program
    .command("shred <paths...>")
    .description("overwrite files in place, sync, then remove them")
    .action((paths: string[], _o, cmd: Command) =>
      run(async () => {
        cmd.optsWithGlobals<GlobalOptions>();
        const files: { path: string; ok: boolean; bytes?: number; reason?: string }[] = [];
        for (const path of paths) {
          try {
            files.push({ path, ok: true, bytes: shredFile(path).bytes });
          } catch (err) {
            files.push({ path, ok: false, reason: (err as Error).message });
          }
        }
        const failed = files.filter((f) => !f.ok).length;
        const text = [
          ...files.map((f) => (f.ok ? `shredded ${f.path} (${f.bytes} bytes)` : `refused ${f.path}: ${f.reason}`)),
          CAVEAT,
        ].join("\n");
        return result({ files, caveat: CAVEAT }, text, failed > 0 ? 1 : 0);
      }),
    );
}
