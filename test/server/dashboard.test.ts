import { existsSync, mkdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import { type Browser, chromium } from "playwright-core";
import { afterEach, describe, expect, it } from "vitest";
import { lethe } from "../helpers/cli.js";
import { makeProject } from "../helpers/project.js";
import { api, createToken, type ServeProcess, startServe } from "./serve-process.js";

// A real headless Chromium (Debian `chromium`, never a downloaded browser) against the BUILT `lethe serve`.
const CHROMIUM = process.env.LETHE_CHROMIUM ?? "/usr/bin/chromium";
const inCi = Boolean(process.env.CI) && process.env.CI !== "false";
const ARTIFACTS = resolve(import.meta.dirname, "../artifacts");

let server: ServeProcess | undefined;
let browser: Browser | undefined;
afterEach(async () => {
  await browser?.close();
  server?.signal("SIGKILL");
  await server?.exited;
  browser = undefined;
  server = undefined;
});

describe("dashboard in headless Chromium", () => {
  it("logs in with a token, shows the CLI's numbers, creates an erasure request that completes, highlights overdue", async (ctx) => {
    if (!existsSync(CHROMIUM)) {
      if (inCi) throw new Error(`${CHROMIUM} is missing in CI (the CI script installs Debian's chromium)`);
      ctx.skip(`no Chromium at ${CHROMIUM}: install it with \`apt-get install -y chromium\` to run the dashboard test`);
    }
    const p = makeProject({ logs: 30, expiredEvery: 3 });
    // user-3's rows cannot be deleted: a request for them fails and, received 40 days ago, is overdue.
    const db = new Database(p.db);
    db.exec(
      "create trigger logs_locked before delete on logs when old.user_id = 'user-3' begin select raise(abort, 'locked by the test'); end",
    );
    db.close();
    const token = createToken(p.dir, "admin");
    const plan = lethe(["plan", "--json"], p.dir).json as {
      datasets: { name: string; total: number; expired: number }[];
    };
    server = await startServe(p.dir, { LETHE_ACCESS_LOG: "off" });
    const stuck = await api(server.base, token, "/v1/erasure-requests", {
      method: "POST",
      body: { subject: "user-3", receivedAt: new Date(Date.now() - 40 * 86_400_000).toISOString() },
    });
    expect(stuck.status).toBe(202);

    browser = await chromium.launch({
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
    const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
    const pageErrors: string[] = [];
    page.on("pageerror", (e) => pageErrors.push(e.message));
    await page.goto(`${server.base}/`);

    await page.fill("#token", "lethe_000000000000_wrongwrongwrongwrongwrongwrongwrongwrongwro");
    await page.click("#login-form button[type=submit]");
    await expect.poll(() => page.textContent("#login-error")).toContain("invalid or revoked token");

    await page.fill("#token", token);
    await page.click("#login-form button[type=submit]");
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
    await page.waitForSelector(`#requests tr[data-request="${id}"][data-status=completed]`, { timeout: 20_000 });

    const overdue = page.locator(`#requests tr.overdue[data-request="${stuck.json.id as string}"]`);
    await overdue.waitFor({ timeout: 20_000 });
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
});
