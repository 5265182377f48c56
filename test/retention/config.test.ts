import { readFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { ConfigError } from "../../src/core/errors.js";
import { openLethe } from "../../src/lethe.js";
import { letheIn, tempDir, writeConfig } from "../helpers/cli.js";
import { createLogsTable } from "../helpers/project.js";

const base = {
  version: 1,
  stores: { appdb: { kind: "sql", url: "sqlite:./a.db" }, models: { kind: "fs", root: "./m" } },
  datasets: {
    logs: { store: "appdb", table: "logs", key: "id", subject: "user_id", createdAt: "created_at", retention: "30d" },
  },
};

function issuesOf(cfg: unknown): string[] {
  try {
    parseConfig(cfg, "/tmp");
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues;
  }
  return [];
}

function withDataset(patch: Record<string, unknown>) {
  return { ...base, datasets: { logs: { ...base.datasets.logs, ...patch } } };
}

describe("config: the classic mistakes, each named by key path", () => {
  it("accepts the valid config", async () => {
    expect(issuesOf(base)).toEqual([]);
  });

  it("rejects a bare number as a duration", async () => {
    expect(issuesOf(withDataset({ retention: 30 }))).toEqual([
      expect.stringMatching(/^datasets\.logs\.retention: expected a duration like 30d/),
    ]);
    expect(issuesOf({ ...base, misfireGrace: 3600 })[0]).toMatch(/^misfireGrace: expected a duration like 30d/);
    expect(issuesOf(withDataset({ retention: "30" }))[0]).toMatch(/^datasets\.logs\.retention: /);
  });

  it("rejects unknown keys, including a misspelt retention", async () => {
    const cfg = withDataset({ retenion: "30d" });
    const issues = issuesOf(cfg);
    expect(issues.join("\n")).toMatch(/datasets\.logs.*retenion/);
    expect(issuesOf({ ...base, extra: true }).join()).toMatch(/extra/);
    expect(issuesOf({ ...base, safety: { maxFraktion: 0.5 } }).join()).toMatch(/^safety: .*maxFraktion/);
  });

  it("rejects an identifier injection attempt in a column name", async () => {
    const issues = issuesOf(withDataset({ createdAt: 'created_at"; DROP TABLE logs; --' }));
    expect(issues[0]).toMatch(/^datasets\.logs\.createdAt: expected an SQL identifier/);
    expect(issuesOf(withDataset({ table: "logs; drop table x" }))[0]).toMatch(/^datasets\.logs\.table: /);
  });

  it("reports cross-field problems: unknown store, missing key, wrong files store", async () => {
    expect(issuesOf(withDataset({ store: "nope" }))[0]).toMatch(/^datasets\.logs\.store: unknown store "nope"/);
    expect(issuesOf(withDataset({ key: undefined }))[0]).toMatch(/^datasets\.logs\.key: required/);
    expect(issuesOf(withDataset({ files: { column: "f", store: "appdb" } }))[0]).toMatch(
      /^datasets\.logs\.files\.store: must be an fs store/,
    );
  });

  it("requires secret references, never inline secrets", async () => {
    expect(issuesOf({ ...base, secrets: { masterKey: "hunter2" } })[0]).toMatch(
      /^secrets\.masterKey: expected a secret reference/,
    );
  });

  it("reports a missing table and a missing column before touching anything", async () => {
    const dir = tempDir();
    createLogsTable(join(dir, "a.db"));
    const db = new Database(join(dir, "a.db"));
    db.exec("insert into logs (id, user_id, created_at) values (1, 'u1', '2000-01-01 00:00:00')");
    db.close();
    const cfg = {
      ...base,
      state: join(dir, ".lethe"),
      stores: { appdb: { kind: "sql", url: `sqlite:${join(dir, "a.db")}` } },
      datasets: {
        logs: { ...base.datasets.logs, createdAt: "created" },
        gone: { store: "appdb", table: "missing_table", key: "id", createdAt: "c", retention: "1d" },
      },
    };
    const err = await openLethe(cfg).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues).toEqual([
      'datasets.logs.createdAt: column "created" does not exist in table logs',
      'datasets.gone.table: table "missing_table" does not exist in store appdb',
    ]);
  });
});

describe("config errors through the CLI", () => {
  it("exits 2 naming the key path and deletes nothing", async () => {
    const dir = tempDir();
    createLogsTable(join(dir, "a.db"));
    const db = new Database(join(dir, "a.db"));
    db.exec("insert into logs (id, user_id, created_at) values (1, 'u1', '2000-01-01 00:00:00')");
    db.close();
    const before = readFileSync(join(dir, "a.db"));
    writeConfig(
      dir,
      `version: 1
stores:
  appdb: { kind: sql, url: "sqlite:./a.db" }
datasets:
  logs: { store: appdb, table: logs, key: id, createdAt: created_at, retention: 30 }
  other: { store: appdb, table: logs, key: id, createdAt: created_at, retention: 1d, retenion: 2d }
`,
    );
    const r = await letheIn(["apply", "--force"], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("datasets.logs.retention: expected a duration like 30d");
    expect(r.stderr).toMatch(/datasets\.other.*retenion/);
    expect(readFileSync(join(dir, "a.db")).equals(before)).toBe(true);
    const j = await letheIn(["plan", "--json"], dir);
    expect(j.code).toBe(2);
    expect((j.json as { error: { code: string } }).error.code).toBe("CONFIG_INVALID");
  });

  it("exits 2 when the config file is missing", async () => {
    const r = await letheIn(["plan"], tempDir());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/file not found/);
  });
});
