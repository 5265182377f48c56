import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/scheduler/clock.js";
import { Drainer } from "../../src/server/drainer.js";
import { IntakeRate } from "../../src/server/intake-rate.js";
import { GroupCommit } from "../../src/transient/group-commit.js";

const log = { info: () => undefined, warn: () => undefined, error: () => undefined };
const tick = () => new Promise((r) => setImmediate(r));

/** Lets the loop run until it sleeps on the manual clock: no wall-clock timer can fire meanwhile. */
async function idle(clock: ManualClock, cond: () => boolean = () => true): Promise<void> {
  for (let i = 0; i < 10_000; i++) {
    if (clock.sleepers > 0 && cond()) return;
    await tick();
  }
  throw new Error("the drainer never went idle");
}

describe("background drainer (injected clock)", () => {
  it("runs a pass at start, wakes at once on notify, coalesces a burst, and never overlaps passes", async () => {
    const clock = new ManualClock(new Date(0));
    let running = 0;
    let maxRunning = 0;
    let passes = 0;
    const d = new Drainer({
      name: "t",
      log,
      clock,
      pollMs: 60_000,
      pass: async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await tick();
        running--;
        passes++;
        return 0;
      },
    });
    d.start();
    await idle(clock);
    expect(passes).toBe(1); // the start-up pass; then it sleeps until the poll, a minute of clock time away
    for (let i = 0; i < 50; i++) d.notify(); // a burst of accepts
    await idle(clock, () => passes >= 2);
    expect(passes).toBe(2); // woken by the notify (the clock never moved), and 50 notifies cost one pass
    clock.advance(60_000);
    await idle(clock, () => passes >= 3);
    expect(passes).toBe(3); // the poll
    expect(maxRunning).toBe(1);
    await d.stop();
  });

  it("keeps going while passes find work, and paces itself when asked", async () => {
    const clock = new ManualClock(new Date(0));
    let left = 3;
    let passes = 0;
    const d = new Drainer({
      name: "t",
      log,
      clock,
      pollMs: 60_000,
      pass: async () => {
        passes++;
        if (left === 0) return 0;
        left--;
        return 1;
      },
      pace: () => 30,
    });
    d.start();
    for (let n = 1; n <= 4; n++) {
      await idle(clock, () => passes === n);
      expect(passes).toBe(n); // each pass waits its 30 ms of pacing before the next
      clock.advance(30);
    }
    expect(left).toBe(0);
    await d.stop();
  });

  it("a failing pass is logged and the drainer carries on at the next poll", async () => {
    const clock = new ManualClock(new Date(0));
    const errors: string[] = [];
    let n = 0;
    const d = new Drainer({
      name: "t",
      log: { ...log, error: (o: object) => errors.push(JSON.stringify(o)) },
      clock,
      pollMs: 20,
      pass: async () => {
        n++;
        if (n === 1) throw new Error("state unreachable");
        return 0;
      },
    });
    d.start();
    await idle(clock, () => n === 1);
    expect(errors[0]).toContain("state unreachable");
    clock.advance(20);
    await idle(clock, () => n === 2);
    await d.stop();
    expect(n).toBe(2);
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
