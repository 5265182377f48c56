import { spawnSync } from "node:child_process";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { afterAll, describe, expect, it } from "vitest";
import type { Lethe } from "../../src/lethe.js";
import { verifying } from "../../src/server/run-verify.js";
import { makeProject } from "../helpers/project.js";
import { bearer, type Harness, harness, until } from "./helpers.js";

// Issue 10 item 6: one GET /v1/audit/verify on 300,000 entries blocked the event loop 4.3 s. The pass now
// runs in a worker thread (loaded from dist/: build first), so /healthz and intake answer meanwhile.
const ENTRIES = 200_000;
let h: Harness | undefined;
afterAll(async () => h?.close());

describe("ledger verification in serve", () => {
  it(`keeps the event loop free while a ${ENTRIES}-entry ledger verifies`, async () => {
    const p = makeProject({ logs: 1 });
    h = await harness(p);
    const { app, lethe, tokens } = h;
    // Appended by another process (the built lethe), so the garbage of making 200,000 entries is not this
    // process's: a collection of it would show up as a stall below that is not the verification's. `held`
    // stays one entry per item (ledger v2 folds deletions into one batch entry per append).
    const seed = `const { openLethe } = await import(${JSON.stringify(new URL("../../dist/index.js", import.meta.url).href)});
      const l = await openLethe("lethe.yaml", { logger: { warn() {}, info() {} } });
      for (let d = 0; d < ${ENTRIES}; d += 5000)
        await l.ledger.append(Array.from({ length: 5000 }, (_, i) => ({ action: "held", dataset: "logs", key: d + i })));
      await l.close();`;
    const seeded = spawnSync(process.execPath, ["--input-type=module", "-e", seed], { cwd: p.dir, encoding: "utf8" });
    expect(seeded.stderr).toBe("");
    const size = await lethe.ledger.size();
    expect(size).toBeGreaterThanOrEqual(ENTRIES);

    // Blocking is measured as the loop's busy time (eventLoopUtilization: running callbacks, not waiting
    // for I/O), over the whole pass and in windows of ~10 ms. A pass on the loop keeps it busy all along
    // (utilization near 1; without the worker the prober gets fewer than 20 answers in). The bar of the issue
    // is 50 ms per stall; on a machine shared with other work (2 cores, load 15 when this was written) a
    // window reads 60–340 ms with the loop doing almost nothing (the thread waits for a CPU inside a
    // callback), so stalls are only reported here; bench/verify-bench.mjs measures them.
    let windowStart = performance.eventLoopUtilization();
    let busiest = 0;
    const windows = setInterval(() => {
      const now = performance.eventLoopUtilization();
      busiest = Math.max(busiest, performance.eventLoopUtilization(now, windowStart).active);
      windowStart = now;
    }, 10);
    const elu0 = performance.eventLoopUtilization();
    const delay = monitorEventLoopDelay({ resolution: 5 });
    let finished = false;
    let probes = 0;
    let slowest = 0;
    // /healthz keeps being asked while the verification runs; each answer's latency is measured.
    const prober = (async () => {
      while (!finished) {
        const t = performance.now();
        const r = await app.inject({ method: "GET", url: "/healthz" });
        expect(r.statusCode).toBe(200);
        slowest = Math.max(slowest, performance.now() - t);
        probes += 1;
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    delay.enable();
    const started = performance.now();

    const v = app.inject({ method: "GET", url: "/v1/audit/verify?full=1", headers: bearer(tokens.read) });
    // A full pass asked for while one runs shares it; an incremental one too.
    const joined = app.inject({ method: "GET", url: "/v1/audit/verify", headers: bearer(tokens.read) });
    const [res, res2] = await Promise.all([v, joined]);
    const took = performance.now() - started;
    clearInterval(windows);
    const elu = performance.eventLoopUtilization(elu0).utilization;
    finished = true;
    await prober;
    delay.disable();

    expect(res.json()).toMatchObject({ ok: true, entries: size, full: true, read: size });
    expect(res2.json()).toEqual(res.json());
    // The pass took long enough that the probes say something (it would block for seconds on the loop).
    expect(took).toBeGreaterThan(200);
    expect(probes).toBeGreaterThan(20);
    const seen = `busiest 10 ms window ${busiest.toFixed(1)} ms, wall-clock loop delay max ${(delay.max / 1e6).toFixed(1)} ms, slowest /healthz ${slowest.toFixed(1)} ms`;
    // 0.5, not lower: on the shared 2-core machine under load a free loop read 0.31 (the thread waits for
    // a CPU inside its callbacks); a pass on the loop reads near 1.
    expect(elu, `event loop utilization while verifying (${seen})`).toBeLessThan(0.5);
  }, 120_000);

  it("a full pass asked for while an incremental one runs is 429 with Retry-After", async () => {
    if (!h) throw new Error("needs the ledger of the first test");
    const { app, tokens } = h;
    const incremental = app.inject({ method: "GET", url: "/v1/audit/verify", headers: bearer(tokens.read) });
    await until(async () => verifying(h?.lethe as Lethe) || undefined);
    const full = await app.inject({ method: "GET", url: "/v1/audit/verify?full=1", headers: bearer(tokens.read) });
    expect(full.statusCode).toBe(429);
    expect(full.headers["retry-after"]).toBe("5");
    expect(full.json().error.code).toBe("RATE_LIMITED");
    expect((await incremental).json()).toMatchObject({ ok: true });
  });
});
