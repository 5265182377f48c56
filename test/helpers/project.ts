import { mkdirSync, utimesSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import Database from "better-sqlite3";
import { tempDir, writeConfig } from "./cli.js";

export const DAY_MS = 86_400_000;

export function ts(d: Date): string {
  return `${d.toISOString().replace("T", " ").slice(0, 23)}000`;
}

/**
 * The `logs` table most tests delete from (an app's inference log), created in a SQLite file with the
 * indexes lethe's planner uses. The one definition: tests that need other columns say so in their own SQL.
 */
export function createLogsTable(path: string): void {
  const db = new Database(path);
  db.exec(`create table logs (id integer primary key, user_id text, prompt text, created_at text not null);
    create index logs_user on logs (user_id); create index logs_created on logs (created_at);`);
  db.close();
}

export interface Project {
  dir: string;
  db: string;
  models: string;
  /** ids of logs rows that are expired (created 40 days ago); the others are 5 days old. */
  expiredLogs: number[];
  freshLogs: number[];
}

/**
 * A small real project: SQLite `logs` (30d) and `training` rows linked to
 * files under an fs store, plus a config. Built outside lethe, so tests can
 * compare lethe's results with ground truth.
 */
export function makeProject(
  opts: { logs?: number; expiredEvery?: number; extraYaml?: string; safety?: number } = {},
): Project {
  const dir = tempDir();
  const models = join(dir, "models");
  mkdirSync(join(models, "training"), { recursive: true });
  const dbPath = join(dir, "app.db");
  createLogsTable(dbPath);
  const db = new Database(dbPath);
  db.exec(`create table training (id integer primary key, user_id text, file_path text, created_at text not null, retention_days integer);
    create index training_user on training (user_id); create index training_created on training (created_at);`);
  const now = Date.now();
  const expiredLogs: number[] = [];
  const freshLogs: number[] = [];
  const n = opts.logs ?? 40;
  const every = opts.expiredEvery ?? 2;
  const ins = db.prepare("insert into logs values (?, ?, ?, ?)");
  db.transaction(() => {
    for (let i = 1; i <= n; i++) {
      const expired = i % every === 0;
      (expired ? expiredLogs : freshLogs).push(i);
      ins.run(i, `user-${i % 5}`, `prompt ${i}`, ts(new Date(now - (expired ? 40 : 5) * DAY_MS)));
    }
  })();
  db.close();
  writeConfig(
    dir,
    `version: 1
state: ./.lethe
safety: { maxFraction: ${opts.safety ?? 0.9} }
stores:
  appdb: { kind: sql, url: "sqlite:./app.db" }
  models: { kind: fs, root: ./models }
datasets:
  logs: { store: appdb, table: logs, key: id, subject: user_id, createdAt: created_at, retention: 30d, batchSize: 7, events: true }
  training:
    store: appdb
    table: training
    key: id
    subject: user_id
    createdAt: created_at
    retention: { column: retention_days }
    files: { column: file_path, store: models }
${opts.extraYaml ?? ""}`,
  );
  return { dir, db: dbPath, models, expiredLogs, freshLogs };
}

/** Adds a training row (and optionally its file under models/). */
export function addTraining(
  p: Project,
  id: number,
  filePath: string,
  opts: { ageDays: number; retentionDays?: number; createFile?: boolean },
) {
  const db = new Database(p.db);
  db.prepare("insert into training values (?, ?, ?, ?, ?)").run(
    id,
    `user-${id % 5}`,
    filePath,
    ts(new Date(Date.now() - opts.ageDays * DAY_MS)),
    opts.retentionDays ?? 90,
  );
  db.close();
  if (opts.createFile !== false) {
    const abs = join(p.models, filePath);
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(abs, `data ${id}`);
  }
}

export function ids(dbPath: string, table: string): number[] {
  const db = new Database(dbPath, { readonly: true });
  const r = db.prepare(`select id from ${table} order by id`).all() as { id: number }[];
  db.close();
  return r.map((x) => x.id);
}

export function touch(path: string, ageDays: number, content = "x") {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
  const t = new Date(Date.now() - ageDays * DAY_MS);
  utimesSync(path, t, t);
}
