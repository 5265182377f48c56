import { readFileSync, writeFileSync } from "node:fs";
import type { Command } from "commander";
import { LetheError } from "../../core/errors.js";
import { latestAnchor } from "../../ledger/anchor.js";
import { type ExportLine, exportItems } from "../../ledger/export-items.js";
import { entryMatches, type InclusionProof, verifyInclusion } from "../../ledger/proof.js";
import { proofProblems } from "../../ledger/proof-schema.js";
import { allEntries } from "../../ledger/query.js";
import type { Checkpoint } from "../../ledger/signing.js";
import { splitPems } from "../../ledger/signing-keys.js";
import type { LedgerEntry } from "../../ledger/types.js";
import { verifyJson, verifyText } from "../../ledger/verify-report.js";
import { withLetheState } from "../context.js";
import { jsonText, plain } from "../format.js";
import type { Runner } from "../program.js";
import { type GlobalOptions, result } from "../result.js";

function readJson<T>(path: string, what: string): T {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as T;
  } catch (err) {
    throw new LetheError("USAGE", `${path}: cannot read ${what}: ${(err as Error).message}`);
  }
}

function describe(e: LedgerEntry): string {
  const what = [
    e.dataset,
    e.key !== undefined
      ? `key ${e.key}`
      : e.keyHash
        ? `key#${e.keyHash.slice(0, 12)}`
        : e.keyTag
          ? `key#${e.keyTag.slice(0, 12)}`
          : undefined,
  ]
    .filter(Boolean)
    .join(" ");
  return `#${e.seq}${e.item !== undefined ? `.${e.item}` : ""} ${e.at} ${e.action}${what ? ` ${what}` : ""}${e.reason ? ` (${e.reason})` : ""}`;
}

/** The fields `describe` leaves out: who (as an HMAC), which run, and the entry's data. */
function recordsMore(e: LedgerEntry): string {
  const parts = [
    e.subjectHash
      ? `subject#${e.subjectHash.slice(0, 12)}`
      : e.subjectTag
        ? `subject#${e.subjectTag.slice(0, 12)}`
        : "",
    e.runId ? `run ${e.runId}` : "",
    e.data ? `data ${JSON.stringify(e.data)}` : "",
  ].filter(Boolean);
  return parts.length > 0 ? `; ${parts.join("; ")}` : "";
}

const CSV_COLS = [
  "seq",
  "item",
  "at",
  "action",
  "dataset",
  "key",
  "keyHash",
  "keyTag",
  "subjectHash",
  "subjectTag",
  "salt",
  "reason",
  "runId",
  "data",
  "prevHash",
  "hash",
] as const;
/**
 * One CSV cell, for a spreadsheet or a terminal: control characters shown escaped ({@link plain}: a key cannot
 * drive the terminal or start a row of its own), and a text starting with = + - @ tab or CR gets a leading `'`
 * (OWASP's CSV injection advice) so a spreadsheet does not run it as a formula. The jsonl export is the exact one.
 */
function csvCell(v: unknown): string {
  if (typeof v === "number") return String(v);
  // `data` (counts, ids, hashes: never raw personal data) is one JSON cell, as in the jsonl export.
  const raw = v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v);
  const s = plain(/^[=+\-@\t\r]/.test(raw) ? `'${raw}` : raw);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * `lethe audit …`: verify, log, export, checkpoint, prune, prove, public-key, verify-proof.
 *
 * @example
 * registerAudit(program, run); // then: lethe audit verify --full
 */
export function registerAudit(program: Command, run: Runner): void {
  const audit = program.command("audit").description("the tamper-evident ledger");

  audit
    .command("verify")
    .description(
      "check the entries recorded since the last verification (--full: all of them): hash chain, Merkle tree, checkpoint signatures; exit 4 on any break",
    )
    .option("--full", "re-check every entry, not only those after the last verified one")
    .option("--checkpoint <file>", "also prove the ledger still extends this exported checkpoint")
    .action((_o, cmd: Command) =>
      run(async () => {
        const opts = cmd.optsWithGlobals<GlobalOptions & { checkpoint?: string; full?: boolean }>();
        const cp = opts.checkpoint ? readJson<Checkpoint>(opts.checkpoint, "a checkpoint") : undefined;
        return withLetheState(opts, async (lethe) => {
          const r = await lethe.audit.verify({ checkpoint: cp, full: opts.full === true, record: true, worker: true });
          return result(verifyJson(r), verifyText(r, cp !== undefined), r.ok ? 0 : 4);
        });
      }),
    );

  audit
    .command("log")
    .description("what happened to a subject or an item")
    .option("--subject <id>", "a data subject id (hashed before lookup)")
    .option("--dataset <name>", "a dataset")
    .option("--key <key>", "an item key within --dataset")
    .option("--run <id>", "one run")
    .option("--limit <n>", "at most this many entries (default 100000)")
    .option("--newest", "with more than --limit entries, show the newest instead of the oldest")
    .action((_o, cmd: Command) =>
      run(async () => {
        const o = cmd.optsWithGlobals<
          GlobalOptions & {
            subject?: string;
            dataset?: string;
            key?: string;
            run?: string;
            limit?: string;
            newest?: boolean;
          }
        >();
        const limit = o.limit === undefined ? 100_000 : Number(o.limit);
        if (!Number.isSafeInteger(limit) || limit < 1)
          throw new LetheError("USAGE", `--limit: expected a positive integer, got ${o.limit}`);
        if (o.key !== undefined && o.dataset === undefined) throw new LetheError("USAGE", "--key needs --dataset");
        if (o.subject === undefined && o.dataset === undefined && o.run === undefined)
          throw new LetheError("USAGE", "name --subject S, --dataset D [--key K] or --run ID");
        return withLetheState(o, async (lethe) => {
          const entries = await lethe.audit.log({
            ...(o.subject !== undefined ? { subject: o.subject } : {}),
            ...(o.dataset !== undefined ? { dataset: o.dataset } : {}),
            ...(o.key !== undefined ? { key: o.key } : {}),
            ...(o.run !== undefined ? { runId: o.run } : {}),
            limit: limit + 1,
            newest: o.newest === true,
          });
          // One more than asked tells whether there were more: say so rather than cut silently.
          const truncated = entries.length > limit;
          if (truncated) o.newest ? entries.shift() : entries.pop();
          // Suggest only the options not already given (`--newest --limit 15` chose both).
          const tips = [o.limit === undefined ? "--limit N" : "", o.newest ? "" : "--newest"].filter(Boolean);
          const more = tips.length > 0 ? `; use ${tips.join(" or ")}` : "; more match";
          const note = truncated ? `\n(only the ${o.newest ? "newest" : "oldest"} ${limit} entries${more})` : "";
          // After a prune, "nothing matches" must not read as "nothing ever happened": say where history starts.
          const anchor = await latestAnchor(lethe.state);
          const pruned = anchor
            ? `\n(entries recorded before ${anchor.before} were pruned: ${anchor.size} entries, kept only as a signed anchor)`
            : "";
          return result(
            { entries, ...(truncated ? { truncated: true } : {}), ...(anchor ? { prunedBefore: anchor.before } : {}) },
            `${entries.length ? `${entries.map(describe).join("\n")}${note}` : "No ledger entries match."}${pruned}`,
          );
        });
      }),
    );

  audit
    .command("export")
    .description("the whole ledger for auditors")
    .option("--format <format>", "jsonl or csv", "jsonl")
    .action((_o, cmd: Command) =>
      run(async () => {
        const o = cmd.optsWithGlobals<GlobalOptions & { format: string }>();
        if (o.format !== "jsonl" && o.format !== "csv")
          throw new LetheError("USAGE", `--format: expected jsonl or csv, got ${o.format}`);
        return withLetheState(o, async (lethe) => {
          if (o.format === "csv") process.stdout.write(`${CSV_COLS.join(",")}\n`);
          // A pruned ledger starts after its anchor: without it nobody could tie the first prevHash to anything
          // signed, nor recompute a checkpoint's root (docs/ledger.md, "The export").
          const anchor = o.format === "jsonl" ? await latestAnchor(lethe.state) : undefined;
          if (anchor) process.stdout.write(`${jsonText(JSON.stringify({ anchor }))}\n`);
          const line = (e: ExportLine) =>
            o.format === "jsonl"
              ? `${jsonText(JSON.stringify(e))}\n`
              : `${CSV_COLS.map((c) => csvCell(e[c])).join(",")}\n`;
          for await (const e of allEntries(lethe.state)) {
            process.stdout.write(line(e));
            // A batch entry is followed by its items, each with its salt, so an auditor can recompute the root.
            if (typeof e.data?.items === "number")
              for await (const it of exportItems(lethe.state, lethe.ledger.saltKey, e)) process.stdout.write(line(it));
          }
          // Already streamed to stdout; nothing more to print.
          return result(undefined, "");
        });
      }),
    );

  audit
    .command("checkpoint")
    .description("sign the current tree head; --out writes it for safekeeping outside lethe")
    .option("--out <file>", "write the signed checkpoint here")
    .action((_o, cmd: Command) =>
      run(async () => {
        const o = cmd.optsWithGlobals<GlobalOptions & { out?: string }>();
        return withLetheState(o, async (lethe) => {
          const cp = await lethe.audit.checkpoint();
          if (o.out) writeFileSync(o.out, `${JSON.stringify(cp, null, 2)}\n`);
          return result(
            cp,
            `Checkpoint: size ${cp.size}, root ${cp.root}, signed at ${cp.at}${o.out ? `, written to ${o.out}` : ""}`,
          );
        });
      }),
    );

  audit
    .command("prune")
    .description(
      "remove entries recorded before a date, keeping a signed anchor so the rest still verifies (dry run without --yes)",
    )
    .requiredOption("--before <date>", "entries recorded before this date go (e.g. 2019-01-01)")
    .option("--yes", "really prune")
    .action((_o, cmd: Command) =>
      run(async () => {
        const o = cmd.optsWithGlobals<GlobalOptions & { before: string; yes?: boolean }>();
        // A calendar date or an ISO date-time; without a zone it is UTC, like every time lethe records.
        const m = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/i.exec(o.before.trim());
        const before = new Date(m?.[1] && !m[4] ? `${o.before.trim().replace(" ", "T")}Z` : o.before.trim());
        if (!m || Number.isNaN(before.getTime()))
          throw new LetheError("USAGE", `--before: expected an ISO date such as 2019-01-01, got ${o.before}`);
        return withLetheState(o, async (lethe) => {
          const r = await lethe.audit.prune({ before, yes: o.yes === true });
          const text = r.dryRun
            ? `Dry run: ${r.pruned} entries recorded before ${r.before} would be pruned, ${r.remaining} kept. Add --yes to prune.`
            : `Pruned ${r.pruned} entries recorded before ${r.before}; ${r.remaining} kept, anchored at size ${r.anchor?.size ?? "-"} (root ${r.anchor?.root.slice(0, 16) ?? "-"}…).`;
          return result(r, text);
        });
      }),
    );

  audit
    .command("prove <seq>")
    .description("an inclusion proof for one entry against a signed checkpoint (verifies offline)")
    .option("--item <index>", "for one item of a batch entry (the item number audit log shows)")
    .option("--out <file>", "write the proof here")
    .action((seqArg: string, _o, cmd: Command) =>
      run(async () => {
        const o = cmd.optsWithGlobals<GlobalOptions & { out?: string; item?: string }>();
        const seq = Number(seqArg);
        if (!Number.isSafeInteger(seq) || seq < 1)
          throw new LetheError("USAGE", `SEQ must be a positive integer, got ${seqArg}`);
        const item = o.item === undefined ? undefined : Number(o.item);
        if (item !== undefined && (!Number.isSafeInteger(item) || item < 0))
          throw new LetheError("USAGE", `--item must be a whole number ≥ 0, got ${o.item}`);
        return withLetheState(o, async (lethe) => {
          if (seq > (await lethe.ledger.size())) throw new LetheError("NOT_FOUND", `there is no ledger entry ${seq}`);
          const proof = await lethe.audit.prove(seq, item);
          const what = item === undefined ? `entry ${seq}` : `item ${item} of entry ${seq}`;
          if (o.out) writeFileSync(o.out, `${JSON.stringify(proof, null, 2)}\n`);
          return result(proof, o.out ? `Proof for ${what} written to ${o.out}` : JSON.stringify(proof, null, 2));
        });
      }),
    );

  audit
    .command("verify-proof <file>")
    .description("check an inclusion proof offline against a public key")
    .requiredOption(
      "--public-key <pem>",
      "the PEM file from lethe audit public-key (--all: every key, after a rotation)",
    )
    .action((file: string, _o, cmd: Command) =>
      run(async () => {
        const o = cmd.optsWithGlobals<GlobalOptions & { publicKey: string }>();
        const proof = readJson<InclusionProof>(file, "a proof");
        let pemText: string;
        try {
          pemText = readFileSync(o.publicKey, "utf8");
        } catch (err) {
          throw new LetheError("USAGE", `${o.publicKey}: cannot read a public key: ${(err as Error).message}`);
        }
        // Validated before any hashing: a malformed field is named, never echoed back as if it were proven.
        const problems = proofProblems(proof);
        if (problems.length > 0)
          return result(
            { ok: false, problems },
            `PROOF INVALID: ${file} is not a well-formed inclusion proof (lethe audit prove SEQ --out FILE makes one): ${problems.join("; ")}`,
            4,
          );
        const cp = proof.checkpoint;
        const pems = splitPems(pemText);
        const inTree = verifyInclusion(pems.length > 0 ? pems : pemText, proof);
        // Older proofs carry only the hash; a proof with its entry must match it to the byte.
        const entryOk = (proof.entry === undefined && proof.item === undefined) || entryMatches(proof);
        const ok = inTree && entryOk;
        const by = typeof cp.keyId === "string" ? ` by key ${cp.keyId.slice(0, 16)}…` : "";
        const cpText = `the ledger of ${cp.size} entries signed at ${cp.at}${by} (root ${cp.root.slice(0, 16)}…)`;
        const it = proof.item;
        const what = it
          ? `  records: item ${it.index} of ${it.size} in ${describe(proof.entry as LedgerEntry)} — ${it.key !== undefined ? `key ${it.key}` : `key tag ${it.keyTag}`}${it.subjectTag ? `, subject tag ${it.subjectTag}` : ""}`
          : proof.entry
            ? `  records: ${describe(proof.entry)}${recordsMore(proof.entry)}`
            : "";
        const text = !inTree
          ? `PROOF INVALID: ${it ? `item ${it.index} of ` : ""}entry #${proof.seq} is not proven to be in ${cpText}`
          : !entryOk
            ? `PROOF INVALID: the entry details in the proof do not match entry #${proof.seq}'s hash`
            : [
                `Proof OK: entry #${proof.seq} (hash ${proof.entryHash.slice(0, 16)}…) is in ${cpText}.`,
                what || "  (this proof carries the entry's hash only; audit log shows what it records)",
              ].join("\n");
        return result(
          {
            ok,
            seq: proof.seq,
            entryHash: proof.entryHash,
            checkpoint: cp,
            ...(proof.entry ? { entry: proof.entry } : {}),
          },
          text,
          ok ? 0 : 4,
        );
      }),
    );

  audit
    .command("public-key")
    .description("the Ed25519 public key (PEM) that checks checkpoints and receipts; --all: every key ever used")
    .option(
      "--all",
      "every signing key, retired ones too (each PEM after a # line naming it), for checking older checkpoints",
    )
    .action((_o, cmd: Command) =>
      run(async () => {
        const o = cmd.optsWithGlobals<GlobalOptions & { all?: boolean }>();
        return withLetheState(o, async (lethe) => {
          const pem = lethe.audit.publicKey();
          if (!o.all) return result({ publicKey: pem }, pem.trimEnd());
          const keys = (await lethe.keyRotation.signingKeys()).keys;
          const text = keys
            .map((k) => {
              const status = k.retiredAfter === undefined ? "current" : `retired, signs up to entry ${k.retiredAfter}`;
              return `# lethe ledger signing key ${k.keyId} (${status})\n${k.publicKey.trimEnd()}`;
            })
            .join("\n");
          return result(
            {
              publicKey: pem,
              keys: keys.map((k) => ({
                keyId: k.keyId,
                publicKey: k.publicKey,
                ...(k.retiredAfter !== undefined ? { retiredAfter: k.retiredAfter } : {}),
              })),
            },
            text,
          );
        });
      }),
    );
}
