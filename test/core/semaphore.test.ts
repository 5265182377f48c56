import { describe, expect, it } from "vitest";
import { Semaphore } from "../../src/core/semaphore.js";

describe("Semaphore", () => {
  it("never lets more than its limit run, serves waiters in arrival order, and frees a slot when a holder throws", async () => {
    const gate = new Semaphore(3);
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) =>
        gate.use(async () => {
          started.push(i);
          running++;
          peak = Math.max(peak, running);
          await new Promise((r) => setImmediate(r));
          running--;
          if (i % 4 === 0) throw new Error(`task ${i}`);
          return i;
        }),
      ),
    );
    expect(peak).toBe(3);
    expect(started).toEqual([...Array(12).keys()]);
    expect(results.filter((r) => r.status === "rejected")).toHaveLength(3);
    expect(await gate.use(async () => "free again")).toBe("free again");
  });

  it("hands a released slot to the waiter: a newcomer arriving right after the release cannot overtake it", async () => {
    // The newcomer arrives 0..5 microtasks after the release, so one of them lands between the holder's
    // release and the waiter's resumption, wherever an implementation puts that gap.
    for (let hops = 0; hops <= 5; hops++) {
      const gate = new Semaphore(1);
      const order: string[] = [];
      let release = () => {};
      const holder = gate.use(() => new Promise<void>((r) => (release = r)));
      const waiter = gate.use(async () => void order.push("waiter"));
      await Promise.resolve(); // the waiter is queued behind the holder
      expect(order).toEqual([]);
      release();
      let later = Promise.resolve();
      for (let i = 0; i < hops; i++) later = later.then(() => undefined);
      const newcomer = later.then(() => gate.use(async () => void order.push("newcomer")));
      await Promise.all([holder, waiter, newcomer]);
      expect(order, `newcomer after ${hops} microtasks`).toEqual(["waiter", "newcomer"]);
    }
  });

  it("refuses a limit that is not a positive integer", () => {
    expect(() => new Semaphore(0)).toThrow(/positive integer/);
    expect(() => new Semaphore(1.5)).toThrow(/positive integer/);
  });
});
