import { generateKeyPairSync } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { canonicalJson, receiptFileText, verifyReceiptText } from "../../src/core/receipts.js";
import { letheIn, tempDir } from "../helpers/cli.js";
import { type ErasureFixture, sqliteFixture } from "./fixture.js";

const opened: ErasureFixture[] = [];
afterEach(() => {
  for (const f of opened.splice(0)) f.app?.close();
});

async function completedRequest(): Promise<{ f: ErasureFixture; id: string; receipt: string; pem: string }> {
  const f = sqliteFixture(["receipt-subject-1", "receipt-subject-2"], 3);
  opened.push(f);
  await letheIn(["hold", "add", "--dataset", "uploads", "--reason", "court order 12/2026"], f.dir);
  const id = ((await letheIn(["requests", "create", "receipt-subject-1", "--json"], f.dir)).json as { id: string }).id;
  expect((await letheIn(["requests", "process", id], f.dir)).code).toBe(3); // partially held
  const receipt = join(f.dir, "receipt.json");
  expect((await letheIn(["requests", "receipt", id, "--out", receipt], f.dir)).code).toBe(0);
  const pem = join(f.dir, "lethe.pub");
  writeFileSync(pem, (await letheIn(["audit", "public-key"], f.dir)).stdout);
  return { f, id, receipt, pem };
}

describe("signed erasure receipts", () => {
  it("a receipt issued before a signing-key rotation still verifies offline with the key bundle (audit public-key --all)", async () => {
    const { f, receipt, pem } = await completedRequest();
    expect((await letheIn(["keys", "rotate-signing"], f.dir)).code).toBe(0);
    const all = join(f.dir, "all.pem");
    writeFileSync(all, (await letheIn(["audit", "public-key", "--all"], f.dir)).stdout);
    const fresh = join(f.dir, "new.pem");
    writeFileSync(fresh, (await letheIn(["audit", "public-key"], f.dir)).stdout);
    expect(readFileSync(fresh, "utf8")).not.toBe(readFileSync(pem, "utf8"));
    const elsewhere = tempDir();
    expect((await letheIn(["receipt", "verify", receipt, "--public-key", pem], elsewhere)).code).toBe(0);
    expect((await letheIn(["receipt", "verify", receipt, "--public-key", all], elsewhere)).code).toBe(0);
    const wrong = await letheIn(["receipt", "verify", receipt, "--public-key", fresh], elsewhere);
    expect(wrong.code).toBe(4);
    expect(wrong.stdout).toContain("different key");
    // A receipt issued after the rotation is signed by the new key; the same bundle checks it.
    const id2 = ((await letheIn(["requests", "create", "receipt-subject-2", "--json"], f.dir)).json as { id: string })
      .id;
    await letheIn(["requests", "process", id2], f.dir);
    const later = join(f.dir, "later.json");
    expect((await letheIn(["requests", "receipt", id2, "--out", later], f.dir)).code).toBe(0);
    expect((await letheIn(["receipt", "verify", later, "--public-key", all], elsewhere)).code).toBe(0);
    expect((await letheIn(["receipt", "verify", later, "--public-key", pem], elsewhere)).code).toBe(4);
  }, 120_000);

  it("list the request, subject HMAC, counts, held items with the hold reason and the ledger range; verify offline", async () => {
    const { f, id, receipt, pem } = await completedRequest();
    const doc = JSON.parse(readFileSync(receipt, "utf8"));
    const show = (await letheIn(["requests", "show", id, "--json"], f.dir)).json as { subjectHash: string };
    expect(doc.receipt).toMatchObject({
      type: "lethe-erasure-receipt",
      requestId: id,
      subjectHash: show.subjectHash,
      status: "partially_held",
      held: [expect.objectContaining({ dataset: "uploads", reason: "court order 12/2026", count: 2 })],
      ledger: {
        first: expect.any(Number),
        last: expect.any(Number),
        checkpoint: expect.objectContaining({ size: expect.any(Number) }),
      },
    });
    expect(doc.receipt.datasets).toContainEqual({
      name: "inference_logs",
      found: 3,
      deleted: 3,
      held: 0,
      filesRemoved: 0,
      failed: 0,
    });
    expect(doc.receipt.ledger.checkpoint.size).toBeGreaterThanOrEqual(doc.receipt.ledger.last);
    expect(doc.signature).toMatchObject({ alg: "Ed25519" });
    expect(readFileSync(receipt, "utf8")).not.toContain("receipt-subject-1");
    // Offline: another folder, no config, no state: only the file and the public key.
    const elsewhere = tempDir("lethe-offline-");
    const ok = await letheIn(["receipt", "verify", receipt, "--public-key", pem, "--json"], elsewhere);
    expect(ok.code).toBe(0);
    expect(ok.json).toEqual({ ok: true, requestId: id, status: "partially_held" });
    // The same receipt on every download.
    const again = join(f.dir, "again.json");
    await letheIn(["requests", "receipt", id, "--out", again], f.dir);
    expect(readFileSync(again)).toEqual(readFileSync(receipt));
  });

  it("any single changed byte fails verification (exit 4), as does another key", async () => {
    const { receipt, pem, f } = await completedRequest();
    const bytes = readFileSync(receipt);
    const key = readFileSync(pem, "utf8");
    expect(verifyReceiptText(bytes, key).ok).toBe(true);
    const accepted: number[] = [];
    for (let i = 0; i < bytes.length; i++) {
      for (const flip of [0x01, 0x20]) {
        const t = Buffer.from(bytes);
        t[i] = (t[i] as number) ^ flip;
        if (verifyReceiptText(t, key).ok) accepted.push(i);
      }
    }
    expect(accepted).toEqual([]);
    // Through the CLI: one digit of a count changed.
    const tampered = bytes.toString("utf8").replace('"deleted": 3', '"deleted": 4');
    expect(tampered).not.toBe(bytes.toString("utf8"));
    writeFileSync(join(f.dir, "tampered.json"), tampered);
    const bad = await letheIn(["receipt", "verify", "tampered.json", "--public-key", pem, "--json"], f.dir);
    expect(bad.code).toBe(4);
    expect((bad.json as { ok: boolean; reason: string }).reason).toMatch(/altered/);
    // Re-serialised with other whitespace: same content, still refused (the file is exact).
    writeFileSync(join(f.dir, "reformatted.json"), JSON.stringify(JSON.parse(bytes.toString("utf8"))));
    expect((await letheIn(["receipt", "verify", "reformatted.json", "--public-key", pem], f.dir)).code).toBe(4);
    const other = generateKeyPairSync("ed25519").publicKey.export({ format: "pem", type: "spki" }).toString();
    writeFileSync(join(f.dir, "other.pub"), other);
    expect((await letheIn(["receipt", "verify", receipt, "--public-key", "other.pub"], f.dir)).code).toBe(4);
  });

  it("a field the signature does not cover is refused, top-level or nested, even in canonical form (issue 10 item 11)", async () => {
    const { receipt, pem, f } = await completedRequest();
    const key = readFileSync(pem, "utf8");
    const doc = JSON.parse(readFileSync(receipt, "utf8"));
    const added = [
      { ...doc, subject: "bob@example.com" },
      { ...doc, signature: { ...doc.signature, subject: "bob@example.com" } },
      { ...doc, receipt: { ...doc.receipt, subject: "bob@example.com" } },
      { ...doc, receipt: { ...doc.receipt, ledger: { ...doc.receipt.ledger, note: "x" } } },
    ];
    for (const [i, d] of added.entries()) {
      const text = receiptFileText(d); // canonical bytes: only the added field differs
      const r = verifyReceiptText(Buffer.from(text), key);
      expect(r.ok, `variant ${i}`).toBe(false);
      expect(r.reason).toMatch(/altered/);
      writeFileSync(join(f.dir, `added-${i}.json`), text);
      expect((await letheIn(["receipt", "verify", `added-${i}.json`, "--public-key", pem], f.dir)).code).toBe(4);
    }
    expect(verifyReceiptText(Buffer.from(receiptFileText(added[0])), key).reason).toMatch(/"subject" is not covered/);
  });

  it("canonical JSON sorts keys at every depth and drops nothing else", async () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: "é" }], c: null } })).toBe(
      '{"a":{"c":null,"d":[3,{"y":"é","z":1}]},"b":1}',
    );
  });
});
