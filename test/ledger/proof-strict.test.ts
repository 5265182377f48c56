import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type InclusionProof, verifyInclusion } from "../../src/ledger/proof.js";
import { newSigningKeyDer, privateKeyFromDer, publicKeyId, publicKeyPem } from "../../src/ledger/signing.js";
import { openLethe } from "../../src/lethe.js";
import { letheIn } from "../helpers/cli.js";
import { makeProject } from "../helpers/project.js";

const quiet = { logger: { warn: () => undefined, info: () => undefined } };
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

/** A proof of one deleted item of a fresh project's first batch, and the key that checks it. */
async function itemProof() {
  const p = makeProject({ logs: 40 });
  const lethe = await openLethe(join(p.dir, "lethe.yaml"), quiet);
  closers.push(() => lethe.close());
  await lethe.apply({ force: true });
  const rec = (await lethe.audit.log({ dataset: "logs" })).find((e) => e.action === "deleted" && e.subjectTag);
  const proof = await lethe.audit.prove(rec?.seq as number, rec?.item);
  return { p, lethe, proof, pem: lethe.audit.publicKey() };
}

type Edit = [string, (p: InclusionProof & Record<string, unknown>) => void];
/** Values that are not the ones the hashes commit to (QA: each was accepted and echoed, or crashed). */
const edits: Edit[] = [
  ["item.subjectTag", (p) => Object.assign(p.item as object, { subjectTag: `${p.item?.subjectTag}00` })],
  ["item.index", (p) => Object.assign(p.item as object, { index: 0.5 })],
  ["item.salt", (p) => Object.assign(p.item as object, { salt: `${p.item?.salt}ff` })],
  ["item.key", (p) => Object.assign(p.item as object, { key: 2.5 })],
  ["entry.keyHash", (p) => Object.assign(p.entry as object, { keyHash: 5 })],
  ["checkpoint.keyId", (p) => Object.assign(p.checkpoint, { keyId: "" })],
  ["checkpoint.size", (p) => Object.assign(p.checkpoint, { size: "15" })],
  ["path.0", (p) => p.path.splice(0, 1, (p.path[0] as string).toUpperCase())],
  ["item", (p) => Object.assign(p.item as object, { note: "x" })],
];
const edited = (proof: InclusionProof, edit: Edit[1]) => {
  const c = structuredClone(proof) as InclusionProof & Record<string, unknown>;
  edit(c);
  return c;
};

describe("verify-proof checks the proof's shape strictly before hashing", () => {
  it("refuses non-canonical and malformed fields, in the library and in the CLI (exit 4, the field named, no stack)", async () => {
    const { p, proof, pem } = await itemProof();
    expect(verifyInclusion(pem, proof)).toBe(true);
    for (const [field, edit] of edits) {
      expect(verifyInclusion(pem, edited(proof, edit)), field).toBe(false);
    }
    writeFileSync(join(p.dir, "key.pem"), pem);
    for (const [field, edit] of edits) {
      writeFileSync(join(p.dir, "bad.json"), JSON.stringify(edited(proof, edit)));
      const r = await letheIn(["audit", "verify-proof", "bad.json", "--public-key", "key.pem"], p.dir);
      expect(r.code, field).toBe(4);
      expect(r.stdout).toContain(`PROOF INVALID: bad.json is not a well-formed inclusion proof`);
      expect(r.stdout).toContain(`${field}: `);
      expect(r.stderr).not.toMatch(/^\s+at /m);
    }
  });

  it("a keyId must name the key whose signature verified; a proof without one (signed before rotation) still verifies", async () => {
    const { proof, pem } = await itemProof();
    const other = publicKeyPem(privateKeyFromDer(newSigningKeyDer()));
    const renamed = edited(proof, (c) => Object.assign(c.checkpoint, { keyId: publicKeyId(other) }));
    // Even with the other key offered too, the checkpoint does not verify under the key its keyId names.
    expect(verifyInclusion([pem, other], renamed)).toBe(false);
    const { keyId: _, ...unnamed } = proof.checkpoint;
    expect(verifyInclusion([other, pem], { ...proof, checkpoint: unnamed })).toBe(true);
  });
});
