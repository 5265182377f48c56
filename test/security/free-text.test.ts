import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { lethe } from "../helpers/cli.js";
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
