import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll } from "vitest";
import { type RawSql, rawPg } from "../conformance/sql-fixture.js";
import { tempDir } from "../helpers/cli.js";
import { createTestPgDatabase } from "../helpers/services.js";

/** A test database of the partition tests: its URL and name, and a raw connection to it. */
export interface PartitionDb {
  url: string;
  name: string;
  raw: RawSql;
}

/**
 * Call at the top of a test file: returns `database(opts)`, which creates a PostgreSQL test database (a copy of
 * `opts.template` when given) with a raw connection; every one is closed and dropped after the file's tests.
 *
 * @example
 * const database = usePgDatabases();
 * it("…", async (ctx) => { requireService(ctx, "pg"); const { url, raw } = await database(); });
 */
export function usePgDatabases(): (opts?: { template?: string }) => Promise<PartitionDb> {
  const cleanup: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
  });
  return async (opts = {}) => {
    const db = await createTestPgDatabase(opts);
    cleanup.push(db.drop);
    const raw = rawPg(db.url);
    cleanup.push(() => raw.close());
    return { url: db.url, name: db.name, raw };
  };
}

/**
 * Writes a project in a new temp folder (SQLite state, maxFraction 1) with the PostgreSQL store `db` at `url` and
 * one dataset, given as its YAML line under `datasets:`; returns the folder.
 *
 * @example
 * const dir = pgProject(url, "p: { store: db, table: p, key: id, subject: user_id, createdAt: created_at, retention: 30d }");
 */
export function pgProject(url: string, dataset: string, extra = ""): string {
  const dir = tempDir();
  writeFileSync(
    join(dir, "lethe.yaml"),
    `version: 1
state: ./.lethe
safety: { maxFraction: 1 }
stores:
  db: { kind: sql, url: ${JSON.stringify(url)} }
datasets:
  ${dataset}
${extra}`,
  );
  return dir;
}
