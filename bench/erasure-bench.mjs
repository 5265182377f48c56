// Erasure benchmark (issue 3): erase one subject from inference_logs + training_records holding
// BENCH_ERASE_ROWS rows together (default 10,000,000; indexed user_id) on SQLite and PostgreSQL:
// wall time inside one process (no process start) vs a raw `DELETE … WHERE user_id = ?` of another
// subject of the same data; then 1,000 subjects from a file through the CLI: subjects/second.
// Standalone: `npm run build && node scripts/with-services.mjs node bench/erasure-bench.mjs`.
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import Database from "better-sqlite3";
import pg from "pg";
import { openLethe } from "../dist/index.js";
import { lethe as cli, fmt, table, workDir } from "./lib.mjs";

const ROWS = Number(process.env.BENCH_ERASE_ROWS ?? 10_000_000);
const HALF = Math.floor(ROWS / 2);
// About 50 rows per table per subject, like a regular user of an AI product.
const USERS = Math.max(2000, Math.floor(HALF / 50));
const REPEAT = 5;
const BATCH = 1000;
// Single-subject erasures started at once in one process (the HTTP API or request processing under load).
const CONCURRENT = 20;
const quiet = { logger: { warn: () => undefined, info: () => undefined } };

const subject = (i) => `user-${i}`;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

function yaml(url, scrub) {
  return `version: 1
state: ./.lethe
erasure: { scrub: ${scrub} }
stores:
  db: { kind: sql, url: ${JSON.stringify(url)} }
datasets:
  inference_logs: { store: db, table: inference_logs, key: id, subject: user_id, createdAt: created_at, retention: { column: retention_days } }
  training_records: { store: db, table: training_records, key: id, subject: user_id, createdAt: created_at, retention: { column: retention_days } }
`;
}

function buildSqlite(path) {
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.exec(`create table inference_logs (id integer primary key, user_id text not null, model_name text,
      prompt_text text, response_text text, created_at text not null, retention_days integer not null);
    create table training_records (id integer primary key, user_id text not null, dataset_name text,
      file_path text, created_at text not null, retention_days integer not null);`);
  // One INSERT … SELECT from a recursive CTE per table: millions of rows without a JS loop.
  db.exec(`with recursive n(i) as (select 1 union all select i + 1 from n where i < ${HALF})
    insert into inference_logs select i, 'user-' || (i % ${USERS}), 'llama-3-8b',
      'prompt number ' || i || ' of a private conversation', 'response ' || i, '2026-01-01 00:00:00.000000', 365 from n`);
  db.exec(`with recursive n(i) as (select 1 union all select i + 1 from n where i < ${HALF})
    insert into training_records select i, 'user-' || ((i * 7) % ${USERS}), 'set-' || (i % 10),
      null, '2026-01-01 00:00:00.000000', 365 from n`);
  db.exec(`create index il_user on inference_logs (user_id); create index il_created on inference_logs (created_at);
    create index tr_user on training_records (user_id); create index tr_created on training_records (created_at);`);
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.close();
}

async function buildPg(url) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(`create table inference_logs (id bigint primary key, user_id text not null, model_name text,
        prompt_text text, response_text text, created_at timestamptz not null, retention_days integer not null);
      create table training_records (id bigint primary key, user_id text not null, dataset_name text,
        file_path text, created_at timestamptz not null, retention_days integer not null)`);
    await c.query(`insert into inference_logs select i, 'user-' || (i % ${USERS}), 'llama-3-8b',
      'prompt number ' || i || ' of a private conversation', 'response ' || i, '2026-01-01', 365
      from generate_series(1, ${HALF}) as i`);
    await c.query(`insert into training_records select i, 'user-' || ((i * 7) % ${USERS}), 'set-' || (i % 10),
      null, '2026-01-01', 365 from generate_series(1, ${HALF}) as i`);
    await c.query(`create index il_user on inference_logs (user_id); create index il_created on inference_logs (created_at);
      create index tr_user on training_records (user_id); create index tr_created on training_records (created_at);
      analyze inference_logs; analyze training_records`);
  } finally {
    await c.end();
  }
}

/** The reference: what a hand-written script does, one DELETE per table, nothing recorded. */
async function rawDeletes(kind, target, subjects) {
  const times = [];
  let rows = 0;
  if (kind === "sqlite") {
    const db = new Database(target);
    const a = db.prepare("delete from inference_logs where user_id = ?");
    const b = db.prepare("delete from training_records where user_id = ?");
    for (const s of subjects) {
      const t0 = process.hrtime.bigint();
      rows += a.run(s).changes + b.run(s).changes;
      times.push(ms(t0));
    }
    db.close();
  } else {
    const c = new pg.Client({ connectionString: target });
    await c.connect();
    for (const s of subjects) {
      const t0 = process.hrtime.bigint();
      rows += (await c.query("delete from inference_logs where user_id = $1", [s])).rowCount;
      rows += (await c.query("delete from training_records where user_id = $1", [s])).rowCount;
      times.push(ms(t0));
    }
    await c.end();
  }
  return { ms: median(times), rowsPerSubject: rows / subjects.length };
}

/** lethe.erase(subject, { yes: true }) in an already open process: the deletion path, ledger, verification, scrub. */
async function letheErase(dir, subjects) {
  const l = await openLethe(join(dir, "lethe.yaml"), quiet);
  const times = [];
  let deleted = 0;
  let vacuums = 0;
  try {
    for (const s of subjects) {
      const t0 = process.hrtime.bigint();
      const r = await l.erase(s, { yes: true });
      times.push(ms(t0));
      deleted += r.datasets.reduce((n, d) => n + d.deleted, 0);
      vacuums += r.scrub?.filter((p) => p.vacuumed).length ?? 0;
      if (r.residue > 0 || r.failed > 0) throw new Error(`erase ${s}: residue or failures`);
    }
  } finally {
    await l.close();
  }
  return { ms: median(times), rowsPerSubject: deleted / subjects.length, vacuums };
}

/** CONCURRENT single-subject lethe.erase calls at once in one open process: wall time per subject, scrub passes. */
async function concurrentErase(dir, subjects) {
  const l = await openLethe(join(dir, "lethe.yaml"), quiet);
  try {
    const t0 = process.hrtime.bigint();
    const rs = await Promise.all(subjects.map((s) => l.erase(s, { yes: true })));
    const wall = ms(t0);
    for (const r of rs) if (r.residue > 0 || r.failed > 0) throw new Error("concurrent erase: residue or failures");
    const reports = rs.flatMap((r) => r.scrub ?? []);
    // Each erasure's report says how many erasures its pass served: a pass of n counts 1/n per report.
    const passes = Math.round(reports.reduce((n, p) => n + 1 / (p.shared ?? 1), 0));
    const vacuums = Math.round(reports.reduce((n, p) => n + (p.vacuumed ? 1 / (p.shared ?? 1) : 0), 0));
    return { wall, perSubject: wall / subjects.length, passes, vacuums };
  } finally {
    await l.close();
  }
}

async function backend(kind, target, dir) {
  // Disjoint subjects for every measurement: 1…, 100…, 200… singly, the top 1,000 in the batch.
  const pick = (from) => Array.from({ length: REPEAT }, (_, i) => subject(from + i * 7));
  const ref = await rawDeletes(kind, target, pick(1));
  const out = { kind, ref, modes: [] };
  const modes = kind === "sqlite" ? ["verify", "checkpoint"] : ["verify"];
  for (const [m, scrub] of modes.entries()) {
    writeFileSync(join(dir, "lethe.yaml"), yaml(kind === "sqlite" ? `sqlite:${target}` : target, scrub));
    cli(["audit", "verify"], dir); // state, keys and migrations outside the timing
    out.modes.push({ scrub, ...(await letheErase(dir, pick(100 + m * 100))) });
  }
  // The same with checkpoint (no search) is the floor: what the erasures cost without the scrub's pass.
  out.concurrent = [];
  for (const [m, scrub] of modes.entries()) {
    writeFileSync(join(dir, "lethe.yaml"), yaml(kind === "sqlite" ? `sqlite:${target}` : target, scrub));
    const subjects = Array.from({ length: CONCURRENT }, (_, i) => subject(500 + m * 200 + i * 7));
    out.concurrent.push({ scrub, ...(await concurrentErase(dir, subjects)) });
  }
  writeFileSync(join(dir, "lethe.yaml"), yaml(kind === "sqlite" ? `sqlite:${target}` : target, "verify"));
  const batch = Array.from({ length: BATCH }, (_, i) => subject(USERS - 1 - i));
  writeFileSync(join(dir, "subjects.txt"), `${batch.join("\n")}\n`);
  const r = cli(["erase", "--from", "subjects.txt", "--yes", "--json"], dir);
  const j = JSON.parse(r.stdout);
  out.batch = {
    seconds: r.seconds,
    deleted: j.subjects.reduce((n, s) => n + s.datasets.reduce((m, d) => m + d.deleted, 0), 0),
  };
  return out;
}

export async function run() {
  const results = [];
  const sdir = workDir("lethe-bench-erase-sqlite-");
  const spath = join(sdir, "app.db");
  let t0 = process.hrtime.bigint();
  buildSqlite(spath);
  const sqliteBuild = ms(t0) / 1000;
  try {
    results.push(await backend("sqlite", spath, sdir));
  } finally {
    rmSync(sdir, { recursive: true, force: true }); // gigabytes at the default size
  }
  let pgBuild;
  if (process.env.LETHE_TEST_PG_URL) {
    const admin = new pg.Client({ connectionString: process.env.LETHE_TEST_PG_URL });
    await admin.connect();
    const name = `lethe_bench_erase_${process.pid}`;
    await admin.query(`create database "${name}"`);
    const url = new URL(process.env.LETHE_TEST_PG_URL);
    url.pathname = `/${name}`;
    try {
      t0 = process.hrtime.bigint();
      await buildPg(url.toString());
      pgBuild = ms(t0) / 1000;
      const pdir = workDir("lethe-bench-erase-pg-");
      try {
        results.push(await backend("postgres", url.toString(), pdir));
      } finally {
        rmSync(pdir, { recursive: true, force: true });
      }
    } finally {
      await admin.query(`drop database if exists "${name}" with (force)`);
      await admin.end();
    }
  }
  const rows = [];
  for (const r of results)
    for (const m of r.modes)
      rows.push([
        r.kind,
        m.scrub,
        fmt(m.rowsPerSubject, 0),
        fmt(r.ref.ms, 1),
        fmt(m.ms, 1),
        `${fmt(m.ms / r.ref.ms, 1)}×`,
        m.ms < 100 ? "yes" : "no",
        `${m.vacuums}/${REPEAT}`,
      ]);
  const batchRows = results.map((r) => [
    r.kind,
    BATCH,
    r.batch.deleted,
    fmt(r.batch.seconds, 1),
    fmt(BATCH / r.batch.seconds, 0),
  ]);
  const concurrentRows = results.flatMap((r) =>
    r.concurrent.map((c) => [
      r.kind,
      c.scrub,
      CONCURRENT,
      fmt(c.wall, 0),
      fmt(c.perSubject, 1),
      c.perSubject < 100 ? "yes" : "no",
      c.scrub === "verify" ? c.passes : "-",
      c.vacuums,
    ]),
  );
  return `## erasure

${ROWS.toLocaleString("en")} rows in inference_logs + training_records (half each, ${USERS.toLocaleString("en")} subjects,
indexed user_id); built in ${fmt(sqliteBuild, 0)} s (SQLite, INSERT … SELECT from a recursive CTE)${pgBuild ? ` and ${fmt(pgBuild, 0)} s (PostgreSQL, generate_series)` : ""}.
Median of ${REPEAT} subjects each. "raw DELETE" is one \`DELETE … WHERE user_id = ?\` per table on the same data
(another subject, nothing recorded); lethe's time is \`lethe.erase(subject, { yes: true })\` in an open process: the
hold check, write-ahead intent, batched DELETE … RETURNING, one ledger entry per item, re-query for residue, signed
checkpoint and the store scrub (\`verify\` searches the SQLite file for the erased values and VACUUMs if any is found;
\`checkpoint\` only checkpoints the WAL).

${table(["backend", "erasure.scrub", "rows/subject", "raw DELETE ms", "lethe erase ms", "ratio", "< 100 ms", "VACUUMs"], rows)}

Concurrent: ${CONCURRENT} single-subject \`lethe.erase(subject, { yes: true })\` started at once in one open process
(default \`erasure.scrubWindow: 10ms\`); wall time of all of them, per subject. Erasures whose scrubs meet share
one search pass of the file; \`checkpoint\` (no search) is the floor the same erasures cost without it.

${table(["backend", "erasure.scrub", "erasures", "wall ms", "ms/subject", "< 100 ms", "search passes", "VACUUMs"], concurrentRows)}

Batch: \`lethe erase --from FILE --yes\` with ${BATCH} subjects (one process, including its start):

${table(["backend", "subjects", "rows deleted", "seconds", "subjects/s"], batchRows)}
`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) process.stdout.write(await run());
