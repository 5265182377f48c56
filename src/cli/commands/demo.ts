import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { LetheError } from "../../core/errors.js";
import { buildDemo } from "../../demo/build-demo.js";
import { openLethe } from "../../lethe.js";
import { table } from "../format.js";
import type { Runner } from "../program.js";
import { type GlobalOptions, result } from "../result.js";

/**
 * `lethe demo`: builds a sample AI data set on the embedded default and runs
 * plan → apply → audit verify on it, telling the story as it goes.
 */
export async function runDemo(dirOpt: string | undefined, log: (line: string) => void) {
  const dir = dirOpt ? resolve(dirOpt) : mkdtempSync(join(tmpdir(), "lethe-demo-"));
  if (existsSync(dir) && readdirSync(dir).length > 0)
    throw new LetheError("USAGE", `--dir ${dir} is not empty; the demo needs a fresh folder`);
  const data = buildDemo(dir);
  log(`lethe demo in ${dir}`);
  log(`  built ${data.logs} inference_logs and ${data.records} training_records (SQLite, timestamps as`);
  log(`  YYYY-MM-DD HH:MM:SS.ffffff over the last 120 days; logs kept 30 days, training records 90),`);
  log(`  ${data.records} row-linked feature files and ${data.checkpoints} checkpoints beside configs and READMEs.\n`);

  const lethe = await openLethe(data.config, { logger: { warn: () => undefined, info: () => undefined } });
  try {
    const plan = await lethe.plan();
    log("1. plan (dry run, nothing deleted yet):");
    log(
      indent(
        table([
          ["dataset", "total", "expired", "held"],
          ...plan.datasets.map((d) => [d.name, d.total, d.expired, d.held]),
        ]),
      ),
    );

    const run = await lethe.apply();
    log(`\n2. apply (run ${run.runId}): every deletion is one ledger entry`);
    log(
      indent(
        table([
          ["dataset", "deleted", "files removed", "failed"],
          ...run.datasets.map((d) => [d.name, d.deleted, d.filesRemoved, d.failed]),
        ]),
      ),
    );

    const survivors = data.keepers.filter((k) => existsSync(k)).length;
    log(
      `\n3. configs and READMEs beside the checkpoints: ${survivors} of ${data.keepers.length} untouched (not in the include globs)`,
    );

    const verify = await lethe.audit.verify();
    log(
      `\n4. audit verify: ${verify.ok ? "OK" : `FAILED at ${verify.firstBad}: ${verify.reason}`}, ${verify.entries} ledger entries, hash chain + signed Merkle checkpoints`,
    );
    const sample = (await lethe.audit.log({ dataset: "inference_logs", key: "1" }))[0];
    if (sample) log(`   e.g. inference_logs row 1: ${sample.action} at ${sample.at} (entry #${sample.seq})`);
    log(`\nExplore: cd ${dir} && npx lethe audit log --subject user-7   (subject ids are stored only as HMACs)`);
    return { dir, plan, run, verify, keepersIntact: survivors === data.keepers.length };
  } finally {
    await lethe.close();
  }
}

function indent(s: string): string {
  return s
    .split("\n")
    .map((l) => `   ${l}`)
    .join("\n");
}

export function registerDemo(program: Command, run: Runner): void {
  program
    .command("demo")
    .description("build a sample AI data set and show plan → apply → audit verify end to end")
    .option("--dir <dir>", "where to build it (default: a new temp folder)")
    .action((_o, cmd: Command) =>
      run(async () => {
        const o = cmd.optsWithGlobals<GlobalOptions & { dir?: string }>();
        const lines: string[] = [];
        const out = await runDemo(o.dir, (l) => (o.json ? lines.push(l) : process.stdout.write(`${l}\n`)));
        const ok = out.verify.ok && out.keepersIntact;
        return result({ dir: out.dir, plan: out.plan, run: out.run, verify: out.verify }, "", ok ? 0 : 1);
      }),
    );
}
