import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../helpers/cli.js";

const ROOT = resolve(import.meta.dirname, "../..");
const NATIVE = "node_modules/better-sqlite3/build/Release/better_sqlite3.node";

function run(cmd: string, args: string[], cwd: string) {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", timeout: 120_000, env: { ...process.env, CI: "true" } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r;
}

/**
 * The package as a user gets it: `npm pack` (dist is built by `npm test` first) → install the
 * tarball into an empty folder from the npm cache → the bin, the demo and the library entry work.
 * Only the npm registry is contacted (and only for what the cache lacks). better-sqlite3's install
 * script would compile the addon from source (minutes) or fetch a prebuilt binary from GitHub, so
 * scripts are skipped and the binary this checkout's `npm ci` built (same version) is reused.
 */
describe("npm pack → npm install <tarball> → it works", () => {
  it("npx lethe --version, lethe demo and import { openLethe } from 'lethe'", { timeout: 180_000 }, () => {
    const out = tempDir("lethe-pack-");
    run("npm", ["pack", "--ignore-scripts", "--pack-destination", out], ROOT);
    const tgz = readdirSync(out).find((f) => f.endsWith(".tgz"));
    expect(tgz).toBeDefined();
    const app = join(out, "app");
    mkdirSync(app);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
    run(
      "npm",
      ["install", "--prefer-offline", "--ignore-scripts", "--no-audit", "--no-fund", join(out, tgz as string)],
      app,
    );
    mkdirSync(dirname(join(app, NATIVE)), { recursive: true });
    copyFileSync(join(ROOT, NATIVE), join(app, NATIVE));

    const version = run("npx", ["--no-install", "lethe", "--version"], app);
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
    expect(version.stdout.trim()).toBe(pkg.version);
    expect(version.stderr).toBe("");

    // The bin link npm made (what npx ran above), without npx's second start-up.
    const demo = run(join(app, "node_modules", ".bin", "lethe"), ["demo", "--dir", join(out, "demo")], app);
    expect(demo.stdout).toMatch(/verif/i);

    writeFileSync(
      join(app, "use.mjs"),
      `import { openLethe } from "lethe";
const l = await openLethe(${JSON.stringify(join(out, "demo", "lethe.yaml"))});
const v = await l.audit.verify();
await l.close();
console.log(JSON.stringify({ ok: v.ok, entries: v.entries }));
`,
    );
    const lib = run("node", ["use.mjs"], app);
    expect(JSON.parse(lib.stdout)).toMatchObject({ ok: true, entries: expect.any(Number) });
  });
});
