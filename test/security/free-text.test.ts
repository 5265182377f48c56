import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { lethe, letheIn } from "../helpers/cli.js";
import { makeProject } from "../helpers/project.js";

// Reasons and notes people type land on the append-only ledger: personal data in them must not.
describe("free text on the ledger", () => {
  it("hold reasons, erasure notes and request reasons are stored with personal data masked", () => {
    const p = makeProject({ logs: 10 });
    const email = "jane.reason@example.com";
    const phone = "+44 20 7946 0958";
    expect(
      lethe(["hold", "add", "--dataset", "logs", "--reason", `complaint from ${email} tel ${phone}`], p.dir).code,
    ).toBe(0);
    expect(lethe(["erase", "user-1", "--yes", "--reason", `ticket by ${email}`], p.dir).code).toBe(3); // logs is held
    expect(lethe(["requests", "create", "user-2", "--reason", `letter from ${email}`], p.dir).code).toBe(0);
    const exported = lethe(["audit", "export", "--format", "jsonl"], p.dir).stdout;
    const holds = lethe(["hold", "list", "--json"], p.dir).stdout;
    const requests = lethe(["requests", "list", "--json"], p.dir).stdout;
    const stateFiles = ["state.db", "state.db-wal"].map((f) => {
      try {
        return readFileSync(join(p.dir, ".lethe", f)).toString("latin1");
      } catch {
        return "";
      }
    });
    for (const text of [exported, holds, requests, ...stateFiles]) {
      expect(text).not.toContain(email);
      expect(text).not.toContain("7946 0958");
    }
    expect(exported).toContain("complaint from [EMAIL]");
    expect(holds).toContain("complaint from [EMAIL]");
  });
});

describe("the subject's own id in free text", () => {
  it("is masked in hold reasons, erasure notes and request reasons, whatever its case", async () => {
    const p = makeProject({ logs: 10 });
    const id = "alice-1";
    expect(
      (await letheIn(["hold", "add", "--subject", id, "--reason", `ticket for ${id}, litigation`], p.dir)).code,
    ).toBe(0);
    await letheIn(["erase", id, "--yes", "--reason", `ALICE-1 asked by letter`], p.dir);
    expect((await letheIn(["requests", "create", id, "--reason", `letter from Alice-1`], p.dir)).code).toBe(0);
    const exported = (await letheIn(["audit", "export", "--format", "jsonl"], p.dir)).stdout;
    const holds = (await letheIn(["hold", "list", "--json"], p.dir)).stdout;
    const requests = (await letheIn(["requests", "list", "--json"], p.dir)).stdout;
    const state = readFileSync(join(p.dir, ".lethe", "state.db")).toString("latin1");
    for (const text of [exported, holds, requests, state]) expect(text.toLowerCase()).not.toContain(id);
    expect(exported).toContain("ticket for [SUBJECT], litigation");
    expect(holds).toContain("ticket for [SUBJECT], litigation");
  });
});
