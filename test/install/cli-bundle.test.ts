import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { lethe, letheSpawn, tempDir } from "../helpers/cli.js";
import { makeProject } from "../helpers/project.js";
import { type ServeProcess, startServe } from "../server/serve-process.js";

// Spawns the BUILT CLI: run `npm run build` first (it writes dist/bundle).
const ROOT = resolve(import.meta.dirname, "../..");
const KEY = { LETHE_TEST_KEY: "a".repeat(64) };
const WITH_KEY = "secrets: { masterKey: env:LETHE_TEST_KEY }\n";

/** A module hook that appends every ES module URL Node loads to `log`, one per line. */
function moduleLogger(): { flag: string; loaded: () => string[] } {
  const dir = tempDir("lethe-modlog-");
  const log = join(dir, "log");
  writeFileSync(log, "");
  writeFileSync(
    join(dir, "hooks.mjs"),
    `import { appendFileSync } from "node:fs";
export async function load(url, ctx, next) { appendFileSync(${JSON.stringify(log)}, url + "\\n"); return next(url, ctx); }`,
  );
  writeFileSync(
    join(dir, "register.mjs"),
    `import { register } from "node:module"; register(${JSON.stringify(pathToFileURL(join(dir, "hooks.mjs")).href)});`,
  );
  return {
    flag: `--import=${pathToFileURL(join(dir, "register.mjs")).href}`,
    loaded: () => readFileSync(log, "utf8").split("\n").filter(Boolean),
  };
}

const running: ServeProcess[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) {
    s.signal("SIGKILL");
    await s.exited;
  }
});

describe("the CLI runs from one bundled file", () => {
  it("a command loads the bundle, not lethe's ~200 compiled modules and Kysely's ~260", () => {
    const p = makeProject({ extraYaml: WITH_KEY });
    const hook = moduleLogger();
    const r = lethe(["plan", "--json"], p.dir, { ...KEY, NODE_OPTIONS: hook.flag });
    expect(r.code, r.stderr).toBe(0);
    const files = hook.loaded().filter((u) => u.startsWith("file:"));
    expect(files).toContain(pathToFileURL(join(ROOT, "dist/bundle/lethe.js")).href);
    expect(files.filter((u) => u.includes("/dist/") && !u.includes("/dist/bundle/"))).toEqual([]);
    expect(files.filter((u) => u.includes("/node_modules/kysely/") || u.includes("/node_modules/zod/"))).toEqual([]);
    expect(files.length).toBeLessThan(20);
  });

  it("--version is the package's; the bundle finds the verification worker, the dashboard and the package files", async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
    const p = makeProject({ extraYaml: WITH_KEY });
    const [version, applied] = await Promise.all([
      letheSpawn(["--version"], p.dir, KEY),
      letheSpawn(["apply", "--json"], p.dir, KEY),
    ]);
    expect(version.stdout.trim()).toBe(pkg.version);
    expect(applied.code, applied.stderr).toBe(0);
    const verified = await letheSpawn(["audit", "verify", "--full", "--json"], p.dir, KEY);
    expect(verified.code, verified.stderr).toBe(0);
    expect((verified.json as { ok: boolean }).ok).toBe(true);

    const s = await startServe(p.dir, KEY);
    running.push(s);
    const page = await fetch(`${s.base}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("<html");
    expect((await fetch(`${s.base}/dashboard/app.js`)).status).toBe(200);
  });
});
