import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { SubjectErasedEvent } from "../../src/core/erasure-types.js";
import { openLethe } from "../../src/lethe.js";
import { letheIn } from "../helpers/cli.js";
import { type ErasureFixture, sqliteFixture } from "./fixture.js";

const quiet = { logger: { warn: () => undefined, info: () => undefined } };
const opened: ErasureFixture[] = [];
afterEach(() => {
  for (const f of opened.splice(0)) f.app?.close();
});
function fixture(): ErasureFixture {
  const f = sqliteFixture(["lin-subject-01", "lin-subject-02", "lin-subject-03"], 2);
  opened.push(f);
  return f;
}
const CHECKPOINTS = ["checkpoints/llama/v1.safetensors", "checkpoints/llama/v2.safetensors"];

describe("model lineage", () => {
  it("erase lists the derived artifacts trained on the subject's data; the ledger records it (hashed)", async () => {
    const f = fixture();
    const r = await letheIn(["erase", "lin-subject-01", "--yes", "--json"], f.dir);
    expect(r.code).toBe(0);
    const j = r.json as { lineage: unknown[]; subjectHash: string; runId: string };
    expect(j.lineage).toEqual([
      { dataset: "training_records", derived: [{ dataset: "checkpoints", count: 2, artifacts: CHECKPOINTS }] },
    ]);
    const text = (await letheIn(["erase", "lin-subject-02"], f.dir)).stdout; // a dry run shows it too
    expect(text).toMatch(
      /lineage: checkpoints was trained from training_records; retrain or retire: .*v1\.safetensors/,
    );
    const log = (await letheIn(["audit", "log", "--run", j.runId, "--json"], f.dir)).json as {
      entries: {
        action: string;
        dataset?: string;
        subjectHash?: string;
        data?: { derived: { dataset: string; count: number; artifacts: string[] }[] };
      }[];
    };
    const entry = log.entries.find((e) => e.action === "lineage");
    expect(entry).toMatchObject({ dataset: "training_records", subjectHash: j.subjectHash });
    expect(entry?.data?.derived[0]).toMatchObject({ dataset: "checkpoints", count: 2 });
    // Paths are stored as their HMAC, like every non-integer key.
    expect(entry?.data?.derived[0]?.artifacts).toHaveLength(2);
    expect(JSON.stringify(entry)).not.toContain("safetensors");
  });

  it("no data in a dataset with derived models: no lineage; the receipt of a request carries it", async () => {
    const f = fixture();
    const none = (await letheIn(["erase", "never-seen-subject", "--yes", "--json"], f.dir)).json as {
      lineage: unknown[];
    };
    expect(none.lineage).toEqual([]);
    const id = ((await letheIn(["requests", "create", "lin-subject-03", "--json"], f.dir)).json as { id: string }).id;
    await letheIn(["requests", "process", id], f.dir);
    const receipt = JSON.parse((await letheIn(["requests", "receipt", id, "--json"], f.dir)).stdout);
    expect(receipt.receipt.lineage).toEqual([
      { dataset: "training_records", derived: [{ dataset: "checkpoints", count: 2, artifacts: CHECKPOINTS }] },
    ]);
  });
});

describe("onSubjectErased hooks (for the key ring)", () => {
  it("run once per fully erased subject, never in a dry run or while a hold keeps anything; failures count", async () => {
    const f = fixture();
    const lethe = await openLethe(join(f.dir, "lethe.yaml"), quiet);
    try {
      const calls: SubjectErasedEvent[] = [];
      lethe.onSubjectErased.push(async (e) => {
        calls.push(e);
        return { action: "key_destroyed" };
      });
      await lethe.erase("lin-subject-01");
      expect(calls).toEqual([]);
      await lethe.holds.add({ subject: "lin-subject-02", reason: "litigation" });
      const r = await lethe.erase(["lin-subject-01", "lin-subject-02"], { yes: true });
      expect(calls.map((c) => c.subject)).toEqual(["lin-subject-01"]);
      expect(calls[0]).toMatchObject({ subjectHash: r.subjects[0]?.subjectHash, runId: r.runId });
      expect(r.subjects[0]?.actions).toEqual([{ action: "key_destroyed" }]);
      expect(r.subjects[1]?.actions).toEqual([]);

      lethe.onSubjectErased.push(async () => {
        throw new Error("keyring unavailable");
      });
      const bad = await lethe.erase("lin-subject-03", { yes: true });
      expect(bad.failed).toBe(1);
      const log = await lethe.audit.log({ subject: "lin-subject-03" });
      expect(log.find((e) => e.action === "failed")?.reason).toBe("after-erasure hook: keyring unavailable");

      const req = await lethe.requests.create("late-subject-xyz");
      lethe.onSubjectErased.pop();
      await lethe.requests.process(req.id);
      expect(calls.at(-1)).toMatchObject({ subject: "late-subject-xyz", requestId: req.id });
    } finally {
      await lethe.close();
    }
  });
});
