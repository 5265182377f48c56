/**
 * The one way tests wait for something that happens in another process or on real time: poll a condition
 * until it holds, with a generous deadline, and fail with a clear message if it never does. Tests never
 * sleep a fixed time and then assert; behaviour that depends on time is tested with an injected clock
 * (`ManualClock` in src/scheduler/clock.ts).
 *
 * @example
 * const row = await until(async () => (await rows()).find((r) => r.status === "ok"), 30_000);
 */
export async function until<T>(
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  ms = 15_000,
  step = 50,
  what = "condition",
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`${what} not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, step));
  }
}
