import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import Database from "better-sqlite3";
import mysql from "mysql2/promise";
import pg from "pg";
import { tempDir, writeConfig } from "../helpers/cli.js";

/**
 * A multi-table AI data set with planted subjects, built outside lethe so
 * tests compare lethe's results with ground truth: `inference_logs` and
 * `training_records` (rows linked to files under `models/`), an fs tree of
 * per-user uploads (`users/{subject}/…`) and model checkpoints derived from
 * the training records.
 */
export interface Row {
  id: number;
  subject: string;
  prompt?: string;
  file?: string;
}

export interface ErasureFixture {
  dir: string;
  /** sqlite path, postgres or mysql URL of the target. */
  target: string;
  models: string;
  uploads: string;
  logs: Row[];
  training: Row[];
  uploadFiles: { path: string; subject: string }[];
  checkpoints: string[];
  /** Present when the target is SQLite: the app's own connection, kept open like a running service. */
  app?: Database.Database;
}

export const CANARY = "CANARY-PROMPT-zq9x7 my rare diagnosis is Fabry disease";
const DAY = 86_400_000;

function ts(d: Date): string {
  return `${d.toISOString().replace("T", " ").slice(0, 23)}000`;
}

/** Deterministic rows: `perSubject` logs and half as many training rows per subject. */
export function plan(subjects: string[], perSubject: number, victim?: string): { logs: Row[]; training: Row[] } {
  const logs: Row[] = [];
  const training: Row[] = [];
  let id = 1;
  // Interleaved, so one subject's rows are spread over the whole table like real traffic.
  for (let i = 0; i < perSubject; i++)
    for (const s of subjects) {
      logs.push({ id, subject: s, prompt: s === victim && i === 0 ? CANARY : `prompt ${id} of ${s}` });
      id++;
    }
  id = 1;
  for (let i = 0; i < Math.max(1, Math.floor(perSubject / 2)); i++)
    for (const s of subjects) {
      training.push({ id, subject: s, file: `training/${s}/sample-${id}.bin` });
      id++;
    }
  return { logs, training };
}

const SCHEMA = `
  create table inference_logs (id integer primary key, user_id text not null, model_name text, prompt_text text,
    response_text text, created_at text not null, retention_days integer not null);
  create index inference_logs_user on inference_logs (user_id);
  create index inference_logs_created on inference_logs (created_at);
  create table training_records (id integer primary key, user_id text not null, file_path text, created_at text not null,
    retention_days integer not null);
  create index training_records_user on training_records (user_id);
  create index training_records_created on training_records (created_at);`;

function writeFiles(dir: string, training: Row[], subjects: string[]) {
  const models = join(dir, "models");
  const uploads = join(dir, "uploads");
  for (const r of training) {
    const abs = join(models, r.file as string);
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(abs, `features of row ${r.id}`);
  }
  const uploadFiles: { path: string; subject: string }[] = [];
  for (const s of subjects)
    for (const name of ["scan-1.dcm", "scan-2.dcm"]) {
      const path = `users/${s}/${name}`;
      mkdirSync(join(uploads, "users", s), { recursive: true });
      writeFileSync(join(uploads, path), `scan of ${s}`);
      uploadFiles.push({ path, subject: s });
    }
  const checkpoints = ["checkpoints/llama/v1.safetensors", "checkpoints/llama/v2.safetensors"];
  for (const c of checkpoints) {
    mkdirSync(dirname(join(models, c)), { recursive: true });
    writeFileSync(join(models, c), "weights");
  }
  writeFileSync(join(models, "checkpoints", "README.md"), "keep me");
  return { models, uploads, uploadFiles, checkpoints };
}

export function config(url: string, extra = "", state = "./.lethe"): string {
  return `version: 1
state: "${state}"
stores:
  appdb: { kind: sql, url: "${url}" }
  models: { kind: fs, root: ./models }
  uploads: { kind: fs, root: ./uploads }
datasets:
  inference_logs: { store: appdb, table: inference_logs, key: id, subject: user_id, createdAt: created_at, retention: { column: retention_days }, batchSize: 50 }
  training_records:
    store: appdb
    table: training_records
    key: id
    subject: user_id
    createdAt: created_at
    retention: { column: retention_days }
    files: { column: file_path, store: models }
    derived: [checkpoints]
    batchSize: 50
  checkpoints: { store: models, include: ["checkpoints/**/*.safetensors"], retention: 60d }
  uploads: { store: uploads, include: ["users/**/*.dcm"], retention: 30d, subjectFromPath: "users/{subject}/**" }
${extra}`;
}

/** SQLite target in WAL mode, with the app's connection left open (the WAL still holds the inserts). */
export function sqliteFixture(subjects: string[], perSubject: number, victim?: string, extra = ""): ErasureFixture {
  const dir = tempDir("lethe-erase-");
  const target = join(dir, "app.db");
  const app = new Database(target);
  app.pragma("journal_mode = WAL");
  app.pragma("wal_autocheckpoint = 0");
  app.exec(SCHEMA);
  const { logs, training } = plan(subjects, perSubject, victim);
  const now = Date.now();
  const insLog = app.prepare("insert into inference_logs values (?, ?, 'llama-3-8b', ?, 'ok', ?, 365)");
  const insTr = app.prepare("insert into training_records values (?, ?, ?, ?, 365)");
  app.transaction(() => {
    for (const r of logs) insLog.run(r.id, r.subject, r.prompt, ts(new Date(now - 3 * DAY)));
    for (const r of training) insTr.run(r.id, r.subject, r.file, ts(new Date(now - 3 * DAY)));
  })();
  const files = writeFiles(dir, training, subjects);
  writeConfig(dir, config("sqlite:./app.db", extra));
  return { dir, target, logs, training, app, ...files };
}

/** The same data set in a PostgreSQL database. */
export async function pgFixture(
  url: string,
  subjects: string[],
  perSubject: number,
  victim?: string,
  opts: { extra?: string; state?: string } = {},
): Promise<ErasureFixture> {
  const dir = tempDir("lethe-erase-pg-");
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(SCHEMA.replace(/integer primary key/g, "bigint primary key"));
    const { logs, training } = plan(subjects, perSubject, victim);
    const created = new Date(Date.now() - 3 * DAY).toISOString();
    await c.query(
      `insert into inference_logs select id, user_id, 'llama-3-8b', prompt, 'ok', $4, 365
       from unnest($1::bigint[], $2::text[], $3::text[]) as t(id, user_id, prompt)`,
      [logs.map((r) => r.id), logs.map((r) => r.subject), logs.map((r) => r.prompt), created],
    );
    await c.query(
      `insert into training_records select id, user_id, file_path, $4, 365
       from unnest($1::bigint[], $2::text[], $3::text[]) as t(id, user_id, file_path)`,
      [training.map((r) => r.id), training.map((r) => r.subject), training.map((r) => r.file), created],
    );
    const files = writeFiles(dir, training, subjects);
    writeConfig(dir, config(url, opts.extra ?? "", opts.state));
    return { dir, target: url, logs, training, ...files };
  } finally {
    await c.end();
  }
}

/** MariaDB/MySQL index no TEXT column without a prefix length: the indexed and key ones are varchar there. */
export const MYSQL_SCHEMA = SCHEMA.replace(/integer primary key/g, "bigint primary key")
  .replace(/user_id text/g, "user_id varchar(64)")
  .replace(/created_at text/g, "created_at varchar(32)")
  .trim()
  .split(";")
  .filter((st) => st.trim() !== "");

/** The same data set in a MariaDB/MySQL database. */
export async function mysqlFixture(url: string, subjects: string[], perSubject: number): Promise<ErasureFixture> {
  const dir = tempDir("lethe-erase-mysql-");
  const c = await mysql.createConnection(url);
  try {
    for (const st of MYSQL_SCHEMA) await c.query(st);
    const { logs, training } = plan(subjects, perSubject);
    const created = ts(new Date(Date.now() - 3 * DAY));
    await c.query("insert into inference_logs values ?", [
      logs.map((r) => [r.id, r.subject, "llama-3-8b", r.prompt, "ok", created, 365]),
    ]);
    await c.query("insert into training_records values ?", [
      training.map((r) => [r.id, r.subject, r.file, created, 365]),
    ]);
    const files = writeFiles(dir, training, subjects);
    writeConfig(dir, config(url));
    return { dir, target: url, logs, training, ...files };
  } finally {
    await c.end();
  }
}

/** Ids left in a table, read outside lethe. */
export async function remaining(f: ErasureFixture, table: string): Promise<number[]> {
  if (f.app) {
    const rows = f.app.prepare(`select id from ${table} order by id`).all() as { id: number }[];
    return rows.map((r) => r.id);
  }
  if (/^(mysql|mariadb):/.test(f.target)) {
    const c = await mysql.createConnection(f.target);
    try {
      const [rows] = await c.query(`select id from ${table} order by id`);
      return (rows as { id: number }[]).map((r) => Number(r.id));
    } finally {
      await c.end();
    }
  }
  const c = new pg.Client({ connectionString: f.target });
  await c.connect();
  try {
    const r = await c.query(`select id from ${table} order by id`);
    return r.rows.map((x: { id: string | number }) => Number(x.id));
  } finally {
    await c.end();
  }
}

/** Every file under a root, relative, sorted. */
export { relativeFilesUnder as filesUnder } from "../helpers/files.js";

/** Ground truth after erasing `erased`: everything else must be exactly as it was. */
export function expected(f: ErasureFixture, erased: Set<string>) {
  return {
    logs: f.logs.filter((r) => !erased.has(r.subject)).map((r) => r.id),
    training: f.training.filter((r) => !erased.has(r.subject)).map((r) => r.id),
    modelFiles: [
      ...f.checkpoints,
      "checkpoints/README.md",
      ...f.training.filter((r) => !erased.has(r.subject)).map((r) => r.file as string),
    ].sort(),
    uploads: f.uploadFiles
      .filter((u) => !erased.has(u.subject))
      .map((u) => u.path)
      .sort(),
  };
}

/** Does any file under `dir` (recursively) or any listed file contain `needle`? Returns the offenders. */
export function filesContaining(paths: string[], needle: string): string[] {
  const n = Buffer.from(needle);
  const hits: string[] = [];
  const check = (p: string) => {
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) return;
    if (st.isDirectory()) {
      for (const e of readdirSync(p)) check(join(p, e));
      return;
    }
    if (readFileSync(p).includes(n)) hits.push(p);
  };
  for (const p of paths) check(p);
  return hits;
}
