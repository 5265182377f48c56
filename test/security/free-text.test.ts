import { existsSync, linkSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { scrubFreeText } from "../../src/ledger/free-text.js";
import { letheIn } from "../helpers/cli.js";
import { makeProject } from "../helpers/project.js";
import { makeTransientProject } from "../transient/helpers.js";

// Reasons and notes people type land on the append-only ledger: personal data in them must not.
describe("free text on the ledger", () => {
  it("hold reasons, erasure notes and request reasons are stored with personal data masked", async () => {
    const p = makeProject({ logs: 10 });
    const email = "jane.reason@example.com";
    const phone = "+44 20 7946 0958";
    expect(
      (await letheIn(["hold", "add", "--dataset", "logs", "--reason", `complaint from ${email} tel ${phone}`], p.dir))
        .code,
    ).toBe(0);
    expect((await letheIn(["erase", "user-1", "--yes", "--reason", `ticket by ${email}`], p.dir)).code).toBe(3); // logs is held
    expect((await letheIn(["requests", "create", "user-2", "--reason", `letter from ${email}`], p.dir)).code).toBe(0);
    const exported = (await letheIn(["audit", "export", "--format", "jsonl"], p.dir)).stdout;
    const holds = (await letheIn(["hold", "list", "--json"], p.dir)).stdout;
    const requests = (await letheIn(["requests", "list", "--json"], p.dir)).stdout;
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

describe("keys and configured subject patterns in reasons (issue 10 item 4)", () => {
  it("scrubFreeText masks the entry's key and anything shaped like a configured subject pattern", async () => {
    const patterns = ["users/{subject}/**", "cache:prompt:{subject}:*"];
    expect(scrubFreeText("could not remove users/bob-7/scan.bin", { keys: ["users/bob-7/scan.bin"] })).toBe(
      "could not remove [KEY]",
    );
    expect(scrubFreeText("seen under /data/users/patient-00417/scan.bin and users/x1/y", { patterns })).toBe(
      "seen under /data/users/[SUBJECT]/scan.bin and users/[SUBJECT]/y",
    );
    expect(scrubFreeText("key cache:prompt:carol-9:42 left", { patterns })).toBe("key cache:prompt:[SUBJECT]:42 left");
    // Text without the lead-in is left as it was.
    expect(scrubFreeText("retention", { patterns })).toBe("retention");
  });

  it("a refused hard-linked shred through events leaves no path, key or subject in the ledger or the queue", async () => {
    const p = makeTransientProject({
      datasets: {
        uploads: {
          store: "files",
          include: ["users/**"],
          subjectFromPath: "users/{subject}/**",
          retention: "1h",
          action: "shred",
          events: true,
        },
      },
    });
    mkdirSync(join(p.data, "users", "patient-00417"), { recursive: true });
    const file = join(p.data, "users", "patient-00417", "scan.bin");
    writeFileSync(file, "pixels");
    linkSync(file, join(p.dir, "second-name.bin"));
    const lethe = await p.open({ events: { maxAttempts: 1, autoRetry: false } });
    try {
      // The ledger itself masks a reason that names its own entry's key or a configured subject pattern.
      await lethe.executor.record([
        {
          action: "failed",
          dataset: "uploads",
          key: "users/patient-00417/scan.bin",
          reason: "could not remove users/patient-00417/scan.bin (users/someone-else/x.bin too)",
        },
      ]);
      const r = await lethe.complete({
        requestId: "req-1",
        artifacts: [{ dataset: "uploads", key: "users/patient-00417/scan.bin" }],
      });
      expect(r.result?.datasets[0]).toMatchObject({ failed: 1, deleted: 0 });
      expect(existsSync(file)).toBe(true);
      const stored = JSON.stringify(await lethe.audit.log({ dataset: "uploads" })) + JSON.stringify(r);
      const state = readFileSync(join(p.dir, ".lethe", "state.db")).toString("latin1");
      for (const text of [stored, state]) {
        expect(text).not.toContain("patient-00417");
        expect(text).not.toContain("someone-else");
        expect(text).not.toContain(p.data);
      }
      expect(stored).toContain("could not remove [KEY] (users/[SUBJECT]/x.bin too)");
      expect(stored).toMatch(/REFUSED: the file has 2 hard links/);
    } finally {
      await lethe.close();
    }
  });
});
