import { spawnSync } from "node:child_process";
import { afterAll, describe, expect, it } from "vitest";
import type { Lethe } from "../../src/lethe.js";
import { verifying } from "../../src/server/run-verify.js";
import { makeProject } from "../helpers/project.js";
import { bearer, type Harness, harness, until } from "./helpers.js";

// Issue 10 item 6: one GET /v1/audit/verify on 300,000 entries blocked the event loop 4.3 s. The pass now
// runs in a worker thread (loaded from dist/: build first), so /healthz and intake answer meanwhile.
// 60,000 entries: a pass of about a second on an idle machine, in flight for hundreds of probes.
const ENTRIES = 60_000;
let h: Harness | undefined;
afterAll(async () => h?.close());

describe("ledger verification in serve", () => {
  it(`keeps the event loop free while a ${ENTRIES}-entry ledger verifies`, async () => {
    const p = makeProject({ logs: 1 });
    h = await harness(p);
    const { app, lethe, tokens } = h;
    // Appended by another process (the built lethe), so the garbage of making these entries is not this
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

    // While the verification is in flight, /healthz keeps being asked; the answers that arrive before it
    // settled are counted and the longest wait between two answers is kept. A pass on the loop holds it from
    // start to end (measured: 1 answer, one gap as long as the pass); in the worker the loop stays free
    // (hundreds of answers, gaps of milliseconds). The bars are a count and a fraction of the pass, not
    // durations, so neither a loaded machine (slower pass, slower probes alike) nor a fast one moves them.
    let settled = false;
    let answered = 0;
    let widest = 0;
    let last = performance.now();
    const prober = (async () => {
      while (!settled) {
        const r = await app.inject({ method: "GET", url: "/healthz" });
        expect(r.statusCode).toBe(200);
        const now = performance.now();
        if (!settled) {
          answered += 1;
          widest = Math.max(widest, now - last);
        }
        last = now;
        await new Promise((r) => setTimeout(r, 1));
      }
    })();
    const t0 = performance.now();
    const v = app.inject({ method: "GET", url: "/v1/audit/verify?full=1", headers: bearer(tokens.read) });
    // A full pass asked for while one runs shares it; an incremental one too.
    const joined = app.inject({ method: "GET", url: "/v1/audit/verify", headers: bearer(tokens.read) });
    const [res, res2] = await Promise.all([v, joined]);
    settled = true;
    await prober;
    const took = performance.now() - t0;

    expect(res.json()).toMatchObject({ ok: true, entries: size, full: true, read: size });
    expect(res2.json()).toEqual(res.json());
    const seen = `${answered} /healthz answers during a ${took.toFixed(0)} ms pass, longest wait ${widest.toFixed(0)} ms`;
    expect(answered, seen).toBeGreaterThanOrEqual(10);
    expect(widest, seen).toBeLessThan(took * 0.75);
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
