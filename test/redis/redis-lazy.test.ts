import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LETHE_BIN, tempDir } from "../helpers/cli.js";
import { createLogsTable } from "../helpers/project.js";

/** A module hook that makes any import of the Redis client fail loudly. */
const HOOK = `import { register } from "node:module";
register("data:text/javascript," + encodeURIComponent(
  'export async function resolve(s, c, next) { if (s === "redis" || s.startsWith("@redis/")) throw new Error("REDIS_CLIENT_LOADED"); return next(s, c); }'
));
`;

function planWithHook(storesYaml: string, datasetsYaml: string) {
  const dir = tempDir("lethe-redis-lazy-");
  createLogsTable(join(dir, "app.db"));
  writeFileSync(join(dir, "hook.mjs"), HOOK);
  writeFileSync(
    join(dir, "lethe.yaml"),
    `version: 1\nstate: ./.lethe\nstores:\n${storesYaml}datasets:\n${datasetsYaml}`,
  );
  const r = spawnSync(process.execPath, ["--import", join(dir, "hook.mjs"), LETHE_BIN, "plan", "--json"], {
    cwd: dir,
    encoding: "utf8",
    timeout: 120_000,
  });
  return { code: r.status, out: `${r.stdout}\n${r.stderr}` };
}

// Runs the built CLI (npm run build first).
describe("the redis driver is loaded only when a redis store is configured", () => {
  const sql = `  appdb: { kind: sql, url: "sqlite:./app.db" }\n`;
  const logs = `  logs: { store: appdb, table: logs, key: id, createdAt: created_at, retention: 30d }\n`;

  it("a config without a redis store never imports the Redis client", () => {
    const r = planWithHook(sql, logs);
    expect(r.out).not.toContain("REDIS_CLIENT_LOADED");
    expect(r.code).toBe(0);
  });

  it("(control) a redis store does import it, so the hook would have caught a load", () => {
    const r = planWithHook(
      `${sql}  cache: { kind: redis, url: "redis://127.0.0.1:1/0" }\n`,
      `${logs}  prompts: { store: cache, pattern: "p:{subject}:*", retention: 1d }\n`,
    );
    expect(r.out).toContain("REDIS_CLIENT_LOADED");
  });
});
