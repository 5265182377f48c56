import { describe, expect, it } from "vitest";
import { Drainer } from "../../src/server/drainer.js";
import { IntakeRate } from "../../src/server/intake-rate.js";
import { GroupCommit } from "../../src/transient/group-commit.js";

const log = { info: () => undefined, warn: () => undefined, error: () => undefined };
const tick = () => new Promise((r) => setImmediate(r));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Polls instead of sleeping a fixed time: a loaded CI machine must not fail these. */
async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`condition not met within ${ms} ms`);
    await sleep(5);
  }
}

describe("background drainer", () => {
  it("runs a pass at start, wakes at once on notify, and never overlaps passes", async () => {
    let running = 0;
    let maxRunning = 0;
    const passes: number[] = [];
    const d = new Drainer({
      name: "t",
      log,
      pollMs: 60_000,
      pass: async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await new Promise((r) => setTimeout(r, 20));
        running--;
        passes.push(Date.now());
        return 0;
      },
    });
    d.start();
    await waitFor(() => passes.length >= 1);
    await sleep(50);
    expect(passes).toHaveLength(1); // the start-up pass; then it waits (poll is a minute away)
    const t0 = Date.now();
    for (let i = 0; i < 50; i++) d.notify(); // a burst of accepts
    await waitFor(() => passes.length >= 2);
    await sleep(150);
    expect(passes.length).toBeLessThanOrEqual(3); // coalesced, not 50 passes
    expect((passes[1] ?? 0) - t0).toBeLessThan(10_000); // woken by notify, not by the one-minute poll
    expect(maxRunning).toBe(1);
    await d.stop();
  });

  it("keeps going while passes find work, and paces itself when asked", async () => {
    let left = 5;
    const at: number[] = [];
    const d = new Drainer({
      name: "t",
      log,
      pollMs: 60_000,
      pass: async () => {
        at.push(Date.now());
        if (left === 0) return 0;
        left--;
        return 1;
      },
      pace: () => 30,
    });
    d.start();
    await waitFor(() => left === 0);
    await d.stop();
    expect(left).toBe(0);
    for (let i = 1; i < at.length; i++) expect((at[i] ?? 0) - (at[i - 1] ?? 0)).toBeGreaterThanOrEqual(25);
  });

  it("a failing pass is logged and the drainer carries on", async () => {
    const errors: string[] = [];
    let n = 0;
    const d = new Drainer({
      name: "t",
      log: { ...log, error: (o: object) => errors.push(JSON.stringify(o)) },
      pollMs: 20,
      pass: async () => {
        n++;
        if (n === 1) throw new Error("state unreachable");
        return 0;
      },
    });
    d.start();
    await waitFor(() => n > 1);
    await d.stop();
    expect(errors[0]).toContain("state unreachable");
    expect(n).toBeGreaterThan(1);
  });
});

describe("intake rate", () => {
  it("counts hits per second over the current and the previous second", () => {
    let now = 10_000;
    const r = new IntakeRate(() => now);
    for (let i = 0; i < 300; i++) r.hit();
    expect(r.perSecond()).toBe(300);
    now += 1000;
    r.hit();
    expect(r.perSecond()).toBe(300);
    now += 1000;
    expect(r.perSecond()).toBe(1);
    now += 5000;
    expect(r.perSecond()).toBe(0);
  });
});

describe("group commit under HTTP-style arrival", () => {
  it("submits made in the same I/O phase share one flush, even when each flush completes synchronously", async () => {
    const batches: number[][] = [];
    const gc = new GroupCommit<number, number>(async (items) => {
      batches.push(items);
      return items.map((x) => x * 2);
    });
    // Like request handlers run one after another in one poll phase, each awaiting a microtask first.
    const results = await Promise.all([1, 2, 3].map(async (x) => Promise.resolve().then(() => gc.submit(x))));
    expect(results).toEqual([2, 4, 6]);
    expect(batches).toEqual([[1, 2, 3]]);
    await tick();
    expect(await gc.submit(7)).toBe(14); // a lone caller is not held back
    expect(batches).toEqual([[1, 2, 3], [7]]);
  });
});
