import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { loadConfigFile } from "../../config/load.js";
import { LetheError } from "../../core/errors.js";
import { masterKeyFingerprint, stateMasterFingerprint } from "../../crypto/master-check.js";
import { masterKeyFromText, replaceGeneratedMasterKey } from "../../crypto/master-key.js";
import { openState } from "../../state/open-state.js";
import { withLetheState } from "../context.js";
import { table } from "../format.js";
import type { Runner } from "../program.js";
import { type GlobalOptions, result } from "../result.js";

function readKeyFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, "utf8").trim();
  } catch (err) {
    throw new LetheError(
      "USAGE",
      `--new-key-file: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? "error"}`,
    );
  }
  if (text.length === 0) throw new LetheError("USAGE", `--new-key-file: ${path} is empty`);
  return text;
}

/** What the operator does next: the configured key reference is theirs to change, the generated file is lethe's. */
function nextStep(file: string | undefined): string {
  return file
    ? `The new key is now in ${file}.`
    : "Now point secrets.masterKey at the new key (env:… or file:…) and restart lethe; the old key opens nothing any more.";
}

/** `lethe keys list|rotate-master|rotate-signing`: the master key and the ledger signing keys. */
export function registerKeys(program: Command, run: Runner): void {
  const keys = program.command("keys").description("the master key and the ledger signing keys: list, rotate");

  keys
    .command("list")
    .description("the master key's fingerprint and every ledger signing key (current and retired), never a key")
    .action((_o, cmd: Command) =>
      run(async () => {
        const o = cmd.optsWithGlobals<GlobalOptions>();
        return withLetheState(o, async (lethe) => {
          const master = lethe.keyRotation.masterFingerprint();
          const signing = (await lethe.keyRotation.signingKeys()).keys.map((k) => ({
            keyId: k.keyId,
            createdAt: k.createdAt,
            status: k.retiredAfter === undefined ? "current" : "retired",
            ...(k.retiredAt ? { retiredAt: k.retiredAt } : {}),
            ...(k.retiredAfter !== undefined ? { retiredAfter: k.retiredAfter } : {}),
          }));
          const rows = signing.map((k) => [
            k.keyId.slice(0, 16),
            k.status,
            k.createdAt,
            k.retiredAfter === undefined ? "" : `signs up to entry ${k.retiredAfter}`,
          ]);
          return result(
            { master: { fingerprint: master }, signing },
            `Master key fingerprint: ${master}\nLedger signing keys:\n${table([["KEY ID", "STATUS", "CREATED", ""], ...rows])}`,
          );
        });
      }),
    );

  keys
    .command("rotate-master")
    .description(
      "re-wrap every key under a new master key and re-key the ledger head, in one transaction (stop lethe first)",
    )
    .requiredOption(
      "--new-key-file <file>",
      "the new master key (64 hex digits, or any secret), in a file other than the current one",
    )
    .action((_o, cmd: Command) =>
      run(async () => {
        const o = cmd.optsWithGlobals<GlobalOptions & { newKeyFile: string }>();
        const config = loadConfigFile(o.config);
        const text = readKeyFile(o.newKeyFile);
        const newKey = masterKeyFromText(text);
        const to = masterKeyFingerprint(newKey);
        // A rerun after the commit (killed before the key file was replaced, or simply run twice) finishes.
        const state = await openState(config.state);
        const recorded = await stateMasterFingerprint(state).finally(() => state.close());
        if (recorded === to) {
          const file = replaceGeneratedMasterKey(config, text);
          return result(
            { alreadyRotated: true, to, ...(file ? { keyFile: file } : {}) },
            `The state is already wrapped by master key ${to}: nothing to re-wrap. ${nextStep(file)}`,
          );
        }
        return withLetheState(o, async (lethe) => {
          const r = await lethe.keyRotation.master(newKey, (what, n) => {
            process.stderr.write(`lethe: re-wrapped ${n} ${what.replace("_", " ")}\n`);
          });
          const file = replaceGeneratedMasterKey(config, text);
          const w = r.rewrapped;
          return result(
            { ...r, ...(file ? { keyFile: file } : {}) },
            [
              `Master key rotated: ${r.from} → ${r.to} (ledger entry ${r.seq}).`,
              `Re-wrapped ${w.secrets} secret(s), ${w.subjectKeys} subject key(s), ${w.events} queued event(s); ledger head re-keyed.`,
              nextStep(file),
              "Backups taken before now need the old key: keep it offline as long as you keep them.",
            ].join("\n"),
          );
        });
      }),
    );

  keys
    .command("rotate-signing")
    .description("sign checkpoints with a new Ed25519 key from now on; the old key stays trusted for what it signed")
    .action((_o, cmd: Command) =>
      run(async () => {
        const o = cmd.optsWithGlobals<GlobalOptions>();
        return withLetheState(o, async (lethe) => {
          const r = await lethe.keyRotation.signing();
          return result(
            r,
            [
              `Ledger signing key rotated: ${r.from.slice(0, 16)}… → ${r.to.slice(0, 16)}… (ledger entry ${r.seq}).`,
              `The old key signed a last checkpoint at size ${r.checkpoint.size} and signs nothing after entry ${r.retiredAfter}.`,
              "Give verifiers every key: lethe audit public-key --all > ledger-keys.pem (old checkpoints, proofs and receipts still verify with it).",
            ].join("\n"),
          );
        });
      }),
    );
}
