import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { progressLine } from "../../src/cli/progress.js";
import { maskExcerpt } from "../../src/redact/mask.js";
import { letheIn } from "../helpers/cli.js";
import { makeProject } from "../helpers/project.js";
import { openProject } from "../server/helpers.js";

/** Issue 11 item 7: each rough edge met while adopting lethe, each with its check. */
describe("rough edges (issue 11)", () => {
  it("audit log --newest --limit 15 does not suggest options it already has", async () => {
    const p = makeProject({ logs: 40, safety: 1 });
    expect((await letheIn(["apply"], p.dir)).code).toBe(0);
    const both = await letheIn(["audit", "log", "--dataset", "logs", "--newest", "--limit", "15"], p.dir);
    expect(both.code).toBe(0);
    expect(both.stdout).toContain("(only the newest 15 entries; more match)");
    expect(both.stdout).not.toMatch(/use --limit|--newest\)/);
    const limitOnly = await letheIn(["audit", "log", "--dataset", "logs", "--limit", "5"], p.dir);
    expect(limitOnly.stdout).toContain("(only the oldest 5 entries; use --newest)");
  });

  it("the CSV export carries data, as the jsonl export does", async () => {
    const p = makeProject({ safety: 1 });
    expect((await letheIn(["apply"], p.dir)).code).toBe(0);
    const csv = (await letheIn(["audit", "export", "--format", "csv"], p.dir)).stdout.trim().split("\n");
    const header = (csv[0] as string).split(",");
    expect(header).toContain("data");
    const jl = (await letheIn(["audit", "export", "--format", "jsonl"], p.dir)).stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { data?: unknown });
    const withData = jl.findIndex((e) => e.data !== undefined);
    expect(withData).toBeGreaterThanOrEqual(0);
    // One CSV cell: the JSON with its quotes doubled, inside quotes.
    expect(csv[withData + 1]).toContain(`"${JSON.stringify(jl[withData]?.data).replace(/"/g, '""')}"`);
  });

  it("a multi-subject erase prints the run's scrub block once, under its own heading, not under the last subject", async () => {
    const p = makeProject();
    const r = await letheIn(["erase", "user-1", "user-2", "--yes"], p.dir);
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    const storeLines = lines.filter((l) => /^ {2}store appdb:/.test(l));
    expect(storeLines).toHaveLength(1);
    const i = lines.indexOf(storeLines[0] as string);
    expect(lines[i - 1]).toBe("Store files, after the whole run (all 2 subjects):");
  });

  it("the progress line never shows 60/0 for a fully held dataset", async () => {
    expect(progressLine({ dataset: "logs", done: 60, expected: 0, held: 60 })).toMatch(/ 0\/0 \(60 held\)$/);
    expect(progressLine({ dataset: "logs", done: 30, expected: 20, held: 10 })).toMatch(/ 20\/20 \(10 held\)$/);
    const p = makeProject({ logs: 40, safety: 1 });
    const l = await openProject(p);
    try {
      await l.holds.add({ dataset: "logs", reason: "litigation" });
      const seen: { done: number; expected: number; held: number }[] = [];
      await l.apply({ dataset: "logs", onProgress: (e) => seen.push(e) });
      const last = seen.at(-1);
      expect(last).toMatchObject({ done: 20, expected: 0, held: 20 });
      expect(progressLine({ dataset: "logs", ...(last as (typeof seen)[number]) })).not.toContain("20/0");
    } finally {
      await l.close();
    }
  });

  it("a percent-encoded email is masked from what it says", async () => {
    expect(maskExcerpt("email", "jane.doe%40example.org")).toBe("j***@e***.org");
    const p = makeProject();
    writeFileSync(join(p.dir, "access.log"), "GET /signup?email=jane.doe%40example.org&x=1 200\n");
    const r = await letheIn(["scan-logs", "access.log", "--json"], p.dir);
    expect(r.json).toMatchObject({ findings: [{ type: "email", excerpt: "j***@e***.org" }] });
  });

  it("hold list --subject S (and --dataset D) filters", async () => {
    const p = makeProject();
    const add = async (args: string[]) =>
      ((await letheIn(["hold", "add", ...args, "--json"], p.dir)).json as { id: string }).id;
    const a = await add(["--subject", "user-1", "--reason", "case 1"]);
    await add(["--subject", "user-2", "--reason", "case 2"]);
    const d = await add(["--dataset", "training", "--reason", "audit"]);
    const bySubject = (await letheIn(["hold", "list", "--subject", "user-1", "--json"], p.dir)).json as {
      holds: { id: string }[];
    };
    expect(bySubject.holds.map((h) => h.id)).toEqual([a]);
    const byDataset = (await letheIn(["hold", "list", "--dataset", "training", "--json"], p.dir)).json as {
      holds: { id: string }[];
    };
    expect(byDataset.holds.map((h) => h.id)).toEqual([d]);
    expect((await letheIn(["hold", "list", "--subject", "nobody"], p.dir)).stdout.trim()).toBe(
      "No active holds match.",
    );
  });

  it("verify-proof says which entry it proved and what it records; an edited entry fails", async () => {
    const p = makeProject({ safety: 1 });
    expect((await letheIn(["apply"], p.dir)).code).toBe(0);
    writeFileSync(join(p.dir, "key.pem"), (await letheIn(["audit", "public-key"], p.dir)).stdout);
    expect((await letheIn(["audit", "prove", "3", "--out", "proof.json"], p.dir)).code).toBe(0);
    const r = await letheIn(["audit", "verify-proof", "proof.json", "--public-key", "key.pem"], p.dir);
    expect(r.code).toBe(0);
    const proof = JSON.parse(readFileSync(join(p.dir, "proof.json"), "utf8"));
    expect(r.stdout).toContain(`Proof OK: entry #3 (hash ${proof.entryHash.slice(0, 16)}…) is in the ledger of`);
    expect(r.stdout).toMatch(new RegExp(`records: #3 \\S+ ${proof.entry.action}`));
    const json = (await letheIn(["audit", "verify-proof", "proof.json", "--public-key", "key.pem", "--json"], p.dir))
      .json;
    expect(json).toMatchObject({ ok: true, seq: 3, entry: { seq: 3, action: proof.entry.action } });
    proof.entry.action = "hold_released";
    writeFileSync(join(p.dir, "edited.json"), JSON.stringify(proof));
    const bad = await letheIn(["audit", "verify-proof", "edited.json", "--public-key", "key.pem"], p.dir);
    expect(bad.code).toBe(4);
    expect(bad.stdout).toContain("do not match entry #3's hash");
  });
});
