import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { LetheError } from "../../core/errors.js";
import { type ReceiptVerification, verifyReceiptText } from "../../core/receipts.js";
import { splitPems } from "../../ledger/signing-keys.js";
import type { Runner } from "../program.js";
import { type GlobalOptions, result } from "../result.js";

function read(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new LetheError("USAGE", `${path}: cannot read ${what}: ${(err as Error).message}`);
  }
}

/**
 * `lethe receipt verify FILE --public-key PEM`: offline, needs no config or
 * state, only the receipt and the key from `lethe audit public-key`. Exit 4
 * when the receipt does not verify.
 */
export function registerReceipt(program: Command, run: Runner): void {
  const receipt = program.command("receipt").description("erasure receipts");
  receipt
    .command("verify <file>")
    .description("check an erasure receipt offline against the ledger's public key; exit 4 if it fails")
    .requiredOption("--public-key <pem>", "the PEM file from lethe audit public-key")
    .action((file: string, _o, cmd: Command) =>
      run(async () => {
        const o = cmd.optsWithGlobals<GlobalOptions & { publicKey: string }>();
        const bytes = read(file, "a receipt");
        const text0 = read(o.publicKey, "a public key").toString("utf8");
        // A key bundle (audit public-key --all): the receipt names its key; the others would say "different key".
        const pems = splitPems(text0);
        let r: ReceiptVerification = { ok: false, reason: "no public key in the file" };
        for (const pem of pems.length > 0 ? pems : [text0]) {
          const one = verifyReceiptText(bytes, pem);
          if (one.ok || r.reason === "no public key in the file" || !/different key/.test(one.reason ?? "")) r = one;
          if (one.ok) break;
        }
        const text = r.ok
          ? `Receipt OK: request ${r.requestId} (${r.status}), signature and embedded ledger checkpoint verified.`
          : `RECEIPT INVALID: ${r.reason}`;
        return result(r, text, r.ok ? 0 : 4);
      }),
    );
}
