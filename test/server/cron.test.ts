import { describe, expect, it, onTestFinished } from "vitest";
import { ManualClock } from "../../src/scheduler/clock.js";
import { cronSchedule } from "../../src/scheduler/cron.js";
import { COUNT_LIMIT, decideDue } from "../../src/scheduler/misfire.js";

const at = (s: string) => new Date(s);

describe("cron matching (pure, UTC)", () => {
  it("next, latest and between for a daily 5-field pattern", () => {
    const s = cronSchedule("0 2 * * *");
    expect(s.next(at("2026-01-01T01:59:59Z"))).toEqual(at("2026-01-01T02:00:00Z"));
    expect(s.next(at("2026-01-01T02:00:00Z"))).toEqual(at("2026-01-02T02:00:00Z"));
    expect(s.latest(at("2026-01-01T02:00:00Z"))).toEqual(at("2026-01-01T02:00:00Z"));
    expect(s.latest(at("2026-01-01T01:59:59Z"))).toEqual(at("2025-12-31T02:00:00Z"));
    expect(s.between(at("2026-01-01T00:00:00Z"), at("2026-01-04T02:00:00Z"), 10)).toEqual([
      at("2026-01-01T02:00:00Z"),
      at("2026-01-02T02:00:00Z"),
      at("2026-01-03T02:00:00Z"),
      at("2026-01-04T02:00:00Z"),
    ]);
  });

  it("6-field patterns fire on seconds; UTC regardless of the process time zone", () => {
    const tz = process.env.TZ;
    process.env.TZ = "Europe/Berlin";
    onTestFinished(() => {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    });
    expect(new Date("2026-07-01T00:00:00Z").getHours()).toBe(2);
    const s = cronSchedule("*/5 * * * * *");
    expect(s.next(at("2026-03-29T00:59:58Z"))).toEqual(at("2026-03-29T01:00:00Z"));
    expect(s.between(at("2026-01-01T00:00:00Z"), at("2026-01-01T00:00:20Z"), 100)).toHaveLength(4);
    // The EU DST switch (01:00 UTC on 2026-03-29) does not skip or repeat a UTC hour.
    const h = cronSchedule("30 1 * * *");
    expect(h.next(at("2026-03-29T00:00:00Z"))).toEqual(at("2026-03-29T01:30:00Z"));
  });
});

describe("misfire policy (pure)", () => {
  const daily = cronSchedule("0 2 * * *");
  const hour = 3600;

  it("nothing due before the next fire time", () => {
    expect(decideDue(daily, at("2026-01-01T02:00:00Z"), at("2026-01-02T01:59:59Z"), hour)).toEqual({
      run: undefined,
      missed: undefined,
    });
  });

  it("a fire time within grace runs; exactly at the edge still runs", () => {
    const d = decideDue(daily, at("2026-01-01T02:00:00Z"), at("2026-01-02T03:00:00Z"), hour);
    expect(d).toEqual({ run: at("2026-01-02T02:00:00Z"), missed: undefined });
  });

  it("a fire time older than grace is missed, not run", () => {
    const d = decideDue(daily, at("2026-01-01T02:00:00Z"), at("2026-01-02T03:00:01Z"), hour);
    expect(d.run).toBeUndefined();
    expect(d.missed).toEqual({
      count: 1,
      capped: false,
      first: at("2026-01-02T02:00:00Z"),
      last: at("2026-01-02T02:00:00Z"),
    });
  });

  it("down for a week: the last one runs if within grace, the six before are missed", () => {
    const d = decideDue(daily, at("2026-01-01T02:00:00Z"), at("2026-01-08T02:10:00Z"), hour);
    expect(d.run).toEqual(at("2026-01-08T02:00:00Z"));
    expect(d.missed).toEqual({
      count: 6,
      capped: false,
      first: at("2026-01-02T02:00:00Z"),
      last: at("2026-01-07T02:00:00Z"),
    });
    const late = decideDue(daily, at("2026-01-01T02:00:00Z"), at("2026-01-08T05:00:00Z"), hour);
    expect(late.run).toBeUndefined();
    expect(late.missed?.count).toBe(7);
    expect(late.missed?.last).toEqual(at("2026-01-08T02:00:00Z"));
  });

  it("counting stops at the cap for a seconds schedule down for days", () => {
    const d = decideDue(cronSchedule("* * * * * *"), at("2026-01-01T00:00:00Z"), at("2026-01-03T00:00:00Z"), 5);
    expect(d.run).toEqual(at("2026-01-03T00:00:00Z"));
    expect(d.missed).toMatchObject({ count: COUNT_LIMIT, capped: true, last: at("2026-01-02T23:59:59Z") });
  });

  it("the manual clock wakes sleepers when time is moved", async () => {
    const c = new ManualClock(at("2026-01-01T00:00:00Z"));
    let woke = false;
    const p = c.sleep(1000).then(() => {
      woke = true;
    });
    c.advance(999);
    await Promise.resolve();
    expect(woke).toBe(false);
    c.advance(1);
    await p;
    expect(woke).toBe(true);
  });
});
