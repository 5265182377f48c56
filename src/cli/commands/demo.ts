import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { LetheError } from "../../core/errors.js";
import { buildDemo } from "../../demo/build-demo.js";
import { entryMatches, verifyInclusion } from "../../ledger/proof.js";
import { type Lethe, openLethe } from "../../lethe.js";
import { plain, table, terminalText } from "../format.js";
import type { Runner } from "../program.js";
import { type GlobalOptions, result } from "../result.js";

/**
 * `lethe demo`: builds a sample AI data set on the embedded default and runs
 * plan → apply → erase → audit verify → a per-item proof on it, telling the story as it goes.
 */
export async function runDemo(dirOpt: string | undefined, log: (line: string) => void) {
  const dir = dirOpt ? resolve(dirOpt) : mkdtempSync(join(tmpdir(), "lethe-demo-"));
  if (existsSync(dir) && readdirSync(dir).length > 0)
    throw new LetheError("USAGE", `--dir ${dir} is not empty; the demo needs a fresh folder`);
  const data = buildDemo(dir);
  log(`lethe demo in ${plain(dir)}`);
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

    const subject = "user-7";
    const dry = await lethe.erase(subject);
    const erased = await lethe.erase(subject, { yes: true, reason: "demo: right-to-erasure request" });
    const found = dry.datasets.reduce((n, d) => n + d.found, 0);
    log(`\n4. erase ${subject} (GDPR Art. 17): dry run found ${found} item(s); with --yes:`);
    log(
      indent(
        table([
          ["dataset", "deleted", "files removed", "held"],
          ...erased.datasets.map((d) => [d.name, d.deleted, d.filesRemoved, d.held]),
        ]),
      ),
    );
    log(
      `   residue after re-checking every dataset: ${erased.residue}${erased.lineage.length ? `; models trained on that data (retrain or retire): ${erased.lineage.flatMap((l) => l.derived.map((d) => `${d.dataset} (${d.count} artifacts)`)).join(", ")}` : ""}`,
    );

    const verify = await lethe.audit.verify();
    log(
      `\n5. audit verify: ${verify.ok ? "OK" : `FAILED at ${verify.firstBad}: ${verify.reason}`}, ${verify.entries} ledger entries, hash chain + signed Merkle checkpoints`,
    );
    const trail = await lethe.audit.log({ subject });
    log(
      `   ${subject} on the ledger: ${trail.length} entries, found by the subject's HMAC; the raw id is stored nowhere`,
    );
    const proof = await proveOneDeletion(lethe, run.runId);
    if (proof)
      log(
        `\n6. per-item proof: deleted row inference_logs #${proof.key} is item ${proof.item} of ledger entry #${proof.seq} (one entry per batch);\n` +
          `   its path to the batch's Merkle root and the entry's path to the signed checkpoint of ${proof.size} entries\n` +
          `   check offline with the public key alone: ${proof.ok ? "OK" : "INVALID"}`,
      );
    log(`\nExplore: cd ${plain(dir)} && npx lethe audit log --subject user-7   (subject ids are stored only as HMACs)`);
    log(
      `         npx lethe audit prove ${proof?.seq ?? 1}${proof?.item !== undefined ? ` --item ${proof.item}` : ""} --out p.json && npx lethe audit public-key > k.pem && npx lethe audit verify-proof p.json --public-key k.pem`,
    );
    return {
      dir,
      plan,
      run,
      erased,
      verify,
      proof,
      keepersIntact: survivors === data.keepers.length && erased.residue === 0 && proof?.ok === true,
    };
  } finally {
    await lethe.close();
  }
}

/** One deleted row's entry, proved against a fresh signed checkpoint and checked the way an auditor would, offline. */
async function proveOneDeletion(lethe: Lethe, runId: string) {
  const entry = (await lethe.audit.log({ dataset: "inference_logs", runId, limit: 50 })).find(
    (e) => e.action === "deleted" && e.key !== undefined,
  );
  if (!entry) return undefined;
  const proof = await lethe.audit.prove(entry.seq, entry.item);
  const ok = verifyInclusion(lethe.audit.publicKey(), proof) && entryMatches(proof);
  return { key: entry.key, seq: entry.seq, item: entry.item, size: proof.checkpoint.size, ok };
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
    .description("build a sample AI data set and show plan → apply → erase → audit verify end to end")
    .option("--dir <dir>", "where to build it (default: a new temp folder)")
    .action((_o, cmd: Command) =>
      run(async () => {
        const o = cmd.optsWithGlobals<GlobalOptions & { dir?: string }>();
        const lines: string[] = [];
        // Streamed as it goes, so it bypasses run.ts: escaped here like every other human output.
        const out = await runDemo(o.dir, (l) =>
          o.json ? lines.push(l) : process.stdout.write(`${terminalText(l)}\n`),
        );
        const ok = out.verify.ok && out.keepersIntact;
        return result(
          { dir: out.dir, plan: out.plan, run: out.run, erase: out.erased, verify: out.verify },
          "",
          ok ? 0 : 1,
        );
      }),
    );
}
