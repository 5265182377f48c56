import { existsSync, mkdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import { type Browser, type BrowserContext, chromium } from "playwright-core";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { letheIn } from "../helpers/cli.js";
import { makeProject } from "../helpers/project.js";
import { bearer, type Harness, harness } from "./helpers.js";
import { api, createToken, type ServeProcess, startServe } from "./serve-process.js";

// A real headless Chromium (Debian `chromium`, never a downloaded browser) against the BUILT `lethe serve`.
const CHROMIUM = process.env.LETHE_CHROMIUM ?? "/usr/bin/chromium";
const ARTIFACTS = resolve(import.meta.dirname, "../artifacts");

let server: ServeProcess | undefined;
// One browser for the file (launching one takes seconds); each test has its own context (cookies, storage).
let browser: Promise<Browser> | undefined;
let context: BrowserContext | undefined;
let inProcess: Harness | undefined;
afterEach(async () => {
  await context?.close();
  server?.signal("SIGKILL");
  await server?.exited;
  await inProcess?.close();
  context = undefined;
  server = undefined;
  inProcess = undefined;
});
afterAll(async () => (await browser)?.close());

/** A fresh context in the file's browser, launched on first use. */
async function newContext(options: Parameters<Browser["newContext"]>[0] = {}): Promise<BrowserContext> {
  browser ??= launch();
  context = await (await browser).newContext(options);
  return context;
}

function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

function needChromium(): void {
  // Missing is a failure, never a skip: install Debian's chromium (.ci/run does).
  if (!existsSync(CHROMIUM))
    throw new Error(`no Chromium at ${CHROMIUM}: install it with \`apt-get install -y chromium\``);
}

describe("dashboard in headless Chromium", () => {
  it("logs in with a token, shows the CLI's numbers, creates an erasure request that completes, highlights overdue", async () => {
    needChromium();
    const p = makeProject({ logs: 30, expiredEvery: 3 });
    // user-3's rows cannot be deleted: a request for them fails and, received 40 days ago, is overdue.
    const db = new Database(p.db);
    db.exec(
      "create trigger logs_locked before delete on logs when old.user_id = 'user-3' begin select raise(abort, 'locked by the test'); end",
    );
    db.close();
    const token = await createToken(p.dir, "admin");
    const plan = (await letheIn(["plan", "--json"], p.dir)).json as {
      datasets: { name: string; total: number; expired: number }[];
    };
    server = await startServe(p.dir, { LETHE_ACCESS_LOG: "off" });
    const stuck = await api(server.base, token, "/v1/erasure-requests", {
      method: "POST",
      body: { subject: "user-3", receivedAt: new Date(Date.now() - 40 * 86_400_000).toISOString() },
    });
    expect(stuck.status).toBe(202);

    const page = await (await newContext({ viewport: { width: 1280, height: 1400 } })).newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (e) => pageErrors.push(e.message));
    // The page's timers run on Playwright's clock: the dashboard's 3 s refresh is fast-forwarded below
    // instead of waited for (time still flows on its own, so nothing else changes).
    await page.clock.install();
    await page.goto(`${server.base}/`);

    await page.fill("#token", "lethe_000000000000_wrongwrongwrongwrongwrongwrongwrongwrongwro");
    await page.click("#login-form button[type=submit]");
    await expect.poll(() => page.textContent("#login-error")).toContain("invalid or revoked token");

    await page.fill("#token", token);
    await page.click("#login-form button[type=submit]");
    // Every panel loads by its own request: wait for the whole first refresh, not only the datasets panel
    // (the forecast's bars were once counted before its response had arrived).
    await page.waitForSelector("body[data-loaded=true]");
    await page.waitForSelector("#datasets tr[data-dataset=logs]");
    expect(await page.evaluate("sessionStorage.getItem('lethe.token')")).toBe(token);

    for (const d of plan.datasets) {
      const row = page.locator(`#datasets tr[data-dataset=${d.name}]`);
      expect(await row.locator("[data-field=total]").textContent(), d.name).toBe(String(d.total));
      expect(await row.locator("[data-field=expired]").textContent(), d.name).toBe(String(d.expired));
    }
    expect(await page.locator("#forecast rect.bar").count()).toBe(30);

    await page.fill("#subject", "user-2");
    await page.fill("#reason", "GDPR Art. 17 via the dashboard");
    await page.click("#request-form button[type=submit]");
    await page.waitForSelector("#request-message[data-request-id]");
    const id = await page.getAttribute("#request-message", "data-request-id");
    expect(id).toMatch(/^req_/);
    // Each poll moves the page's clock one refresh period on, so the page reloads its panels now.
    const refreshed = async (selector: string) => {
      await page.clock.fastForward(3000);
      return page.locator(selector).count();
    };
    const completed = `#requests tr[data-request="${id}"][data-status=completed]`;
    await expect.poll(() => refreshed(completed), { timeout: 20_000 }).toBe(1);

    const overdueRow = `#requests tr.overdue[data-request="${stuck.json.id as string}"]`;
    await expect.poll(() => refreshed(overdueRow), { timeout: 20_000 }).toBe(1);
    const overdue = page.locator(overdueRow);
    expect(await overdue.textContent()).toContain("OVERDUE");

    await page.click("#verify-now");
    await page.waitForSelector("#verification[data-ok=true]");

    mkdirSync(ARTIFACTS, { recursive: true });
    const shot = join(ARTIFACTS, "dashboard.png");
    await page.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(10_000);
    expect(pageErrors).toEqual([]);

    await page.click("#logout");
    expect(await page.evaluate("sessionStorage.getItem('lethe.token')")).toBeNull();
  }, 120_000);

  // In-process (the app from src, not the built package), so it checks the page as the source has it now.
  it("shows deleted/held/failed for retention and erasure runs, and loads without a console error", async () => {
    needChromium();
    const p = makeProject({ logs: 30, expiredEvery: 3 });
    // user-3's rows cannot be deleted: retention and erasure both record failures for them.
    const db = new Database(p.db);
    db.exec(
      "create trigger logs_locked before delete on logs when old.user_id = 'user-3' begin select raise(abort, 'locked by the test'); end",
    );
    db.close();
    inProcess = await harness(p, { accessLog: false });
    const h = inProcess;
    const hold = await h.app.inject({
      method: "POST",
      url: "/v1/holds",
      headers: bearer(h.tokens.admin),
      payload: { subject: "user-1", reason: "litigation" },
    });
    expect(hold.statusCode).toBe(201);
    const retention = await h.lethe.apply();
    const erasure = await h.lethe.erase(["user-2", "user-3"], { yes: true });
    const erasureRun = erasure.runId as string;
    const sum = (k: "deleted" | "held" | "failed") => retention.datasets.reduce((n, d) => n + d[k], 0);
    const expected = {
      [retention.runId]: { deleted: sum("deleted"), held: sum("held"), failed: sum("failed") },
      [erasureRun]: (await h.app.inject({ url: `/v1/runs/${erasureRun}`, headers: bearer(h.tokens.read) })).json()
        .summary as Record<string, number>,
    };
    // Every column has something to show, so a blank cell cannot pass as a zero.
    expect(expected[retention.runId]).toEqual({ deleted: 6, held: 2, failed: 2 });
    expect(expected[erasureRun]?.deleted).toBeGreaterThan(0);
    expect(expected[erasureRun]?.failed).toBeGreaterThan(0);

    const base = await h.app.listen({ port: 0, host: "127.0.0.1" });
    const page = await (await newContext()).newPage();
    const problems: string[] = [];
    page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on("response", (r) => {
      if (r.status() >= 400) problems.push(`HTTP ${r.status()} ${r.url()}`);
    });
    await page.goto(`${base}/`);
    await page.fill("#token", h.tokens.read);
    await page.click("#login-form button[type=submit]");
    for (const [id, counts] of Object.entries(expected)) {
      const row = page.locator(`#runs tr[data-run="${id}"]`);
      await row.waitFor();
      for (const k of ["deleted", "held", "failed"] as const)
        expect(await row.locator(`[data-field=${k}]`).textContent(), `${id} ${k}`).toBe(String(counts[k]));
    }
    await page.waitForSelector("body[data-loaded=true]");
    expect(await page.textContent("#refresh-error")).toBe("");
    // No 404 for /favicon.ico (a browser asks for it unless the page names an icon), no other error.
    expect(problems).toEqual([]);
    expect((await h.app.inject({ url: "/favicon.ico" })).statusCode).toBe(204);
  }, 60_000);
});
