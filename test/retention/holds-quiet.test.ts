import { afterEach, describe, expect, it } from "vitest";
import type { Lethe } from "../../src/lethe.js";
import { letheIn } from "../helpers/cli.js";
import { makeProject } from "../helpers/project.js";
import { bearer, harness, openProject } from "../server/helpers.js";

// makeProject: 40 logs rows, every 2nd expired (20), subject user-(i % 5). user-2 owns expired rows 2, 12, 22, 32.
const HELD = [2, 12, 22, 32];

describe("held items stay quiet (issue 11 item 2): reported as held, never as overdue", () => {
  const open: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const o of open.splice(0)) await o.close();
  });
  async function start(): Promise<{ lethe: Lethe; dir: string }> {
    const p = makeProject();
    const lethe = await openProject(p);
    open.push(lethe);
    await lethe.holds.add({ subject: "user-2", reason: "litigation 7" });
    return { lethe, dir: p.dir };
  }

  it("janitor: no expired_item for held items, a true 'not listed' count, held counted apart", async () => {
    const { lethe } = await start();
    const r = await lethe.janitor({ graceSeconds: 0, maxListed: 5 });
    expect(r.counts).toEqual({ expired_item: 16 });
    expect(r.findings.every((f) => !HELD.includes(f.key as number))).toBe(true);
    // 16 overdue, 5 listed: exactly 11 more exist (not 15, which counted the held ones).
    expect(r.omitted).toEqual([{ dataset: "logs", count: 11 }]);
    expect(r.datasets.find((d) => d.name === "logs")).toMatchObject({ overdue: 16, heldBack: 4 });

    const all = await lethe.janitor({ graceSeconds: 0 });
    expect(all.findings.map((f) => f.key).sort((a, b) => Number(a) - Number(b))).toHaveLength(16);
    expect(all.omitted).toEqual([]);
  });

  it("after retention only held items are left: the janitor finds nothing, shows no lag and --apply records no held entries", async () => {
    const { lethe, dir } = await start();
    await lethe.apply();
    for (let i = 0; i < 2; i++) {
      const r = await lethe.janitor({ graceSeconds: 0, apply: true });
      expect(r.findings).toEqual([]);
      expect(r.omitted).toEqual([]);
      expect(r.counts).toEqual({});
      expect(r.lag.find((l) => l.dataset === "logs")?.seconds).toBe(0);
      expect(r.datasets.find((d) => d.name === "logs")).toMatchObject({ overdue: 0, heldBack: 4 });
      const entries = await lethe.audit.log({ runId: r.runId });
      expect(entries.map((e) => e.action)).toEqual(["run_started", "run_finished"]);
      expect(entries[1]?.data).toMatchObject({ held: 4 });
    }
    await lethe.close();
    open.splice(0);
    const out = await letheIn(["janitor", "--grace", "1s"], dir);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain("nothing escaped");
    expect(out.stdout).toContain("logs: 4 item(s) past expiry kept by a legal hold (not findings)");
  });

  it("/v1/datasets and the lag metric count held items as held, not expired", async () => {
    const p = makeProject();
    const h = await harness(p);
    open.push(h);
    await h.lethe.holds.add({ subject: "user-2", reason: "litigation 7" });
    await h.lethe.apply();
    const d = (await h.app.inject({ method: "GET", url: "/v1/datasets", headers: bearer(h.tokens.read) })).json();
    const logs = d.datasets.find((x: { name: string }) => x.name === "logs");
    expect(logs).toMatchObject({ total: 24, expired: 0, held: 4, lagSeconds: 0 });
    const m = (await h.app.inject({ method: "GET", url: "/metrics", headers: bearer(h.tokens.read) })).body;
    expect(m).toMatch(/lethe_retention_lag_seconds\{dataset="logs"\} 0\n/);
    expect(m).toMatch(/lethe_dataset_held_items\{dataset="logs"\} 4\n/);
  });
});
