// Retention benchmark (issues 2 and 9): lethe apply vs one raw DELETE of the same rows on a copy, and vs a DELETE
// plus an audit INSERT … SELECT in one transaction (fsync on for PostgreSQL, lethe's state on PostgreSQL there);
// SQLite and PostgreSQL; fs dataset vs find -delete; peak RSS at two sizes.
import { copyFileSync, mkdirSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { durable, fmt, lethe, progress, table, timed, workDir } from "./lib.mjs";

const DAY = 86_400_000;

function sqliteData(path, rows) {
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.exec(`create table inference_logs (id integer primary key, model_name text, user_id text, prompt_text text,
    response_text text, created_at text not null, retention_days integer not null);`);
  // Ages spread evenly over 120 days: with a 30-day TTL, 75 % are expired.
  db.exec(`with recursive n(i) as (select 1 union all select i + 1 from n where i < ${rows})
    insert into inference_logs select i, 'model-' || (i % 3), 'user-' || (i % 50000),
      'prompt text number ' || i, 'response ' || i,
      strftime('%Y-%m-%d %H:%M:%f', 'now', '-' || ((i * 7919) % (120 * 86400)) || ' seconds') || '000', 30 from n`);
  db.exec("create index il_user on inference_logs (user_id); create index il_created on inference_logs (created_at);");
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.close();
}

function config(dir, url, extra = "", state = "./.lethe") {
  writeFileSync(
    join(dir, "lethe.yaml"),
    `version: 1
state: ${JSON.stringify(state)}
stores:
  db: { kind: sql, url: ${JSON.stringify(url)} }
datasets:
  inference_logs: { store: db, table: inference_logs, key: id, subject: user_id, createdAt: created_at, retention: 30d }
${extra}`,
  );
  lethe(["audit", "verify"], dir); // create state, keys and master key outside the timing
}

export async function benchSqlite(rows) {
  const dir = workDir("lethe-bench-sqlite-");
  const a = join(dir, "a.db");
  sqliteData(a, rows);
  copyFileSync(a, join(dir, "b.db"));
  config(dir, "sqlite:./a.db");
  copyFileSync(a, join(dir, "c.db"));
  const cutoff = new Date(Date.now() - 30 * DAY).toISOString().replace("T", " ").slice(0, 23);
  const sqliteMod = JSON.stringify(join(process.cwd(), "node_modules/better-sqlite3"));
  const ref = timed(process.execPath, [
    "-e",
    `const D=require(${sqliteMod});const d=new D(${JSON.stringify(join(dir, "b.db"))});
     const r=d.prepare("delete from inference_logs where created_at <= ?").run(${JSON.stringify(cutoff)});d.close();console.log(r.changes)`,
  ]);
  // The audited reference: the same DELETE plus a plain audit INSERT … SELECT of the deleted keys (key and subject,
  // both indexed) in one transaction, with lethe's target settings (secure_delete=ON, synchronous=FULL in WAL).
  const audited = timed(process.execPath, [
    "-e",
    `const D=require(${sqliteMod});const d=new D(${JSON.stringify(join(dir, "c.db"))});d.pragma("secure_delete = ON");
     d.exec("create table audit (item_key integer, subject text); create index a_k on audit (item_key); create index a_s on audit (subject)");
     const c=${JSON.stringify(cutoff)};let n=0;d.transaction(()=>{d.prepare("insert into audit select id, user_id from inference_logs where created_at <= ?").run(c);
     n=d.prepare("delete from inference_logs where created_at <= ?").run(c).changes;})();d.close();console.log(n)`,
  ]);
  // The same DELETE the way lethe runs it, with nothing recorded: 5,000 expired keys at a time (lethe's default
  // batchSize), each batch deleted by key in its own transaction, with lethe's target settings. What batching costs.
  copyFileSync(a, join(dir, "d.db"));
  const batched = timed(process.execPath, [
    "-e",
    `const D=require(${sqliteMod});const d=new D(${JSON.stringify(join(dir, "d.db"))});d.pragma("secure_delete = ON");
     const c=${JSON.stringify(cutoff)};let n=0;const sel=d.prepare("select id from inference_logs where created_at <= ? order by created_at limit 5000");
     const del=d.prepare("delete from inference_logs where id in (select value from json_each(?)) returning id, user_id");
     for(;;){const ids=sel.all(c).map((r)=>r.id);if(!ids.length)break;d.transaction(()=>{n+=del.all(JSON.stringify(ids)).length;})();}
     d.close();console.log(n)`,
  ]);
  const stateFile = join(dir, ".lethe", "state.db");
  const before = statSync(stateFile).size;
  const ours = lethe(["apply", "--force", "--json"], dir);
  const deleted = JSON.parse(ours.stdout).datasets[0].deleted;
  // The run ends with a WAL checkpoint (TRUNCATE): the file is the state.
  const stateBytes = statSync(stateFile).size - before;
  // Four copies of a 10M-row table are 6 GB: leave nothing behind unless asked to.
  if (!process.env.BENCH_KEEP) rmSync(dir, { recursive: true, force: true });
  return progress("retention sqlite", {
    rows,
    deleted,
    refDeleted: Number(ref.stdout.trim()),
    ours: ours.seconds,
    ref: ref.seconds,
    audited: audited.seconds,
    batched: batched.seconds,
    rss: ours.rssMiB,
    stateBytes,
  });
}

export async function benchPg(rows, url) {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  // a: lethe (state in its own database), b: raw DELETE, c: DELETE + audit INSERT, d: lethe with its state in d itself.
  const names = ["a", "b", "c", "d"].map((x) => `lethe_bench_${x}_${process.pid}`);
  const stateDb = `lethe_bench_state_${process.pid}`;
  await admin.query(`drop database if exists ${stateDb}`);
  await admin.query(`create database ${stateDb}`);
  for (const n of names) {
    await admin.query(`drop database if exists ${n}`);
    await admin.query(`create database ${n}`);
  }
  const urls = names.map((n) => url.replace(/\/[^/]*$/, `/${n}`));
  for (const u of urls) {
    const c = new pg.Client({ connectionString: u });
    await c.connect();
    await c.query(`create table inference_logs (id bigint primary key, model_name text, user_id text, prompt_text text,
      response_text text, created_at timestamptz not null, retention_days integer not null)`);
    await c.query(`insert into inference_logs select i, 'model-' || (i % 3), 'user-' || (i % 50000), 'prompt text number ' || i,
      'response ' || i, now() - ((i::bigint * 7919) % (120 * 86400)) * interval '1 second', 30 from generate_series(1, ${rows}) i`);
    await c.query(
      "create index il_user on inference_logs (user_id); create index il_created on inference_logs (created_at); analyze inference_logs",
    );
    await c.end();
  }
  const dir = workDir("lethe-bench-pg-");
  // lethe's state on the same PostgreSQL cluster, as a platform would run it.
  config(dir, urls[0], "", url.replace(/\/[^/]*$/, `/${stateDb}`));
  // Same-database mode: the delete and its ledger entries in one transaction, no intent.
  const sameDir = workDir("lethe-bench-pg-same-");
  config(sameDir, urls[3], "", urls[3]);
  await admin.query("checkpoint");
  await durable(admin, true);
  const pgMod = JSON.stringify(join(process.cwd(), "node_modules/pg"));
  const ref = timed(process.execPath, [
    "-e",
    `const pg=require(${pgMod});(async()=>{const c=new pg.Client({connectionString:${JSON.stringify(urls[1])}});await c.connect();
     const r=await c.query("delete from inference_logs where created_at <= now() - interval '30 days'");await c.end();console.log(r.rowCount)})()`,
  ]);
  const audited = timed(process.execPath, [
    "-e",
    `const pg=require(${pgMod});(async()=>{const c=new pg.Client({connectionString:${JSON.stringify(urls[2])}});await c.connect();
     await c.query("create table audit (item_key bigint, subject text); create index a_k on audit (item_key); create index a_s on audit (subject)");
     const r=await c.query("with d as (delete from inference_logs where created_at <= now() - interval '30 days' returning id, user_id) insert into audit select id, user_id from d");
     await c.end();console.log(r.rowCount)})()`,
  ]);
  const ours = lethe(["apply", "--force", "--json"], dir);
  const deleted = JSON.parse(ours.stdout).datasets[0].deleted;
  const same = lethe(["apply", "--force", "--json"], sameDir);
  const sameDeleted = JSON.parse(same.stdout).datasets[0].deleted;
  const st = new pg.Client({ connectionString: url.replace(/\/[^/]*$/, `/${stateDb}`) });
  await st.connect();
  // The ledger's tables (schema lethe) with their indexes and TOAST (the rest of the state is a few rows).
  const stateBytes = Number(
    (
      await st.query(
        "select pg_total_relation_size('lethe.ledger') + pg_total_relation_size('lethe.ledger_items') + pg_total_relation_size('lethe.intents') as b",
      )
    ).rows[0].b,
  );
  await st.end();
  await durable(admin, false);
  for (const n of [...names, stateDb]) await admin.query(`drop database if exists ${n} with (force)`);
  await admin.end();
  if (!process.env.BENCH_KEEP) for (const d of [dir, sameDir]) rmSync(d, { recursive: true, force: true });
  return progress("retention postgres", {
    rows,
    deleted,
    refDeleted: Number(ref.stdout.trim()),
    ours: ours.seconds,
    ref: ref.seconds,
    audited: audited.seconds,
    rss: ours.rssMiB,
    stateBytes,
    same: same.seconds,
    sameDeleted,
  });
}

export function benchFs(files) {
  const dir = workDir("lethe-bench-fs-");
  const make = (root) => {
    const old = new Date(Date.now() - 90 * DAY);
    for (let d = 0; d < files / 1000; d++) {
      const sub = join(root, "checkpoints", `run-${d}`);
      mkdirSync(sub, { recursive: true });
      for (let f = 0; f < 1000; f++) {
        const p = join(sub, `step-${f}.pt`);
        writeFileSync(p, "w");
        if (f % 4 !== 0) utimesSync(p, old, old);
      }
      writeFileSync(join(sub, "config.json"), "{}");
    }
  };
  make(join(dir, "a"));
  make(join(dir, "b"));
  writeFileSync(
    join(dir, "lethe.yaml"),
    `version: 1
state: ./.lethe
safety: { maxFraction: 1 }
stores:
  models: { kind: fs, root: ./a }
datasets:
  checkpoints: { store: models, include: ["checkpoints/**/*.pt"], retention: 60d }
`,
  );
  lethe(["audit", "verify"], dir);
  const ref = timed("find", [join(dir, "b"), "-type", "f", "-name", "*.pt", "-mtime", "+60", "-delete"]);
  const ours = lethe(["apply", "--json"], dir);
  const deleted = JSON.parse(ours.stdout).datasets[0].deleted;
  if (!process.env.BENCH_KEEP) rmSync(dir, { recursive: true, force: true });
  return progress("retention fs", { files, deleted, ours: ours.seconds, ref: ref.seconds, rss: ours.rssMiB });
}

/**
 * The fs row alone, BENCH_FS_RUNS times (default 3), each run on fresh trees with its own `find -delete`
 * reference: medians of both sides and of the per-run ratios.
 *   npm run build && BENCH_RETENTION_PARTS=fs node bench/retention-bench.mjs
 */
function fsOnly(files) {
  const runs = Number(process.env.BENCH_FS_RUNS ?? 3);
  const results = [];
  for (let i = 0; i < runs; i++) results.push(benchFs(files));
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const rows = results.map((r, i) => [i + 1, r.files, r.deleted, fmt(r.ours), fmt(r.ref), `${fmt(r.ours / r.ref)}×`]);
  const ours = median(results.map((r) => r.ours));
  const ref = median(results.map((r) => r.ref));
  const ratio = median(results.map((r) => r.ours / r.ref));
  rows.push(["median", files, results[0].deleted, fmt(ours), fmt(ref), `**${fmt(ratio)}×**`]);
  return [
    "## Retention, fs only",
    "",
    table(["run", "files", "deleted", "lethe apply (s)", "find -delete (s)", "ratio"], rows),
    "",
  ].join("\n");
}

export async function run() {
  if (process.env.BENCH_RETENTION_PARTS === "fs") return fsOnly(Number(process.env.BENCH_FILES ?? 100_000));
  const rows = Number(process.env.BENCH_ROWS ?? 1_000_000);
  const small = Math.max(1000, Math.floor(rows / 10));
  const out = ["## Retention (issue 2)", ""];
  const lines = [];
  const s = await benchSqlite(rows);
  const sSmall = await benchSqlite(small);
  const audit = [];
  lines.push(["SQLite", s.rows, s.deleted, fmt(s.ours), fmt(s.ref), `**${fmt(s.ours / s.ref)}×**`, "≤ 2.0×"]);
  audit.push(["SQLite", s.deleted, fmt(s.ours), fmt(s.audited), `**${fmt(s.ours / s.audited)}×**`, "≤ 1.2×"]);
  let p;
  if (process.env.LETHE_TEST_PG_URL) {
    p = await benchPg(rows, process.env.LETHE_TEST_PG_URL);
    lines.push(["PostgreSQL", p.rows, p.deleted, fmt(p.ours), fmt(p.ref), `**${fmt(p.ours / p.ref)}×**`, "—"]);
    audit.push(["PostgreSQL", p.deleted, fmt(p.ours), fmt(p.audited), `**${fmt(p.ours / p.audited)}×**`, "≤ 1.2×"]);
    const label = "PostgreSQL, state in the target database";
    lines.push([label, p.rows, p.sameDeleted, fmt(p.same), fmt(p.ref), `**${fmt(p.same / p.ref)}×**`, "—"]);
    audit.push([label, p.sameDeleted, fmt(p.same), fmt(p.audited), `**${fmt(p.same / p.audited)}×**`, "≤ 1.2×"]);
  }
  const f = benchFs(Number(process.env.BENCH_FILES ?? 100_000));
  lines.push([
    "fs (files)",
    f.files,
    f.deleted,
    fmt(f.ours),
    fmt(f.ref),
    `**${fmt(f.ours / f.ref)}×**`,
    "≤ 1.5× vs find -delete",
  ]);
  out.push(
    "`lethe apply` (a spawned CLI process, ledger v2: one entry per batch committing to compact item rows, hash chain and signed checkpoint) vs the reference on an identical copy in the same run: one raw `DELETE … WHERE created_at <= cutoff` (spawned node process) or `find -delete`.",
    "",
    table(["target", "items", "deleted", "lethe apply (s)", "reference (s)", "ratio", "target"], lines),
    "",
    "Against the audited reference (issue 9): the same DELETE plus a plain audit `INSERT … SELECT` of the deleted keys (key and subject columns, both indexed) in one transaction. SQLite: lethe's target settings on both sides (WAL, `secure_delete=ON`, `synchronous=FULL`). PostgreSQL: `fsync`, `synchronous_commit` and `full_page_writes` on for the whole cluster during this part (the test harness starts it with them off), lethe's state on the same cluster.",
    "",
    table(["target", "deleted", "lethe apply (s)", "DELETE + audit INSERT (s)", "ratio", "target"], audit),
    "",
    "State written per deleted item (goal ≤ 64 bytes): SQLite, the growth of `state.db` over the run (after its closing WAL checkpoint); PostgreSQL, `ledger`, `ledger_items` and `intents` with their indexes:",
    "",
    table(
      ["target", "deleted", "state bytes", "bytes per item"],
      [
        ["SQLite", s.deleted, s.stateBytes, fmt(s.stateBytes / s.deleted, 1)],
        ...(p ? [["PostgreSQL", p.deleted, p.stateBytes, fmt(p.stateBytes / p.deleted, 1)]] : []),
      ],
    ),
    "",
    "Decomposition (SQLite): the same DELETE run the way lethe runs it, with nothing recorded: 5,000 expired keys at a time (the default `batchSize`), each batch deleted by key (`… WHERE id IN (…) RETURNING id, user_id`) in its own transaction, with lethe's target settings:",
    "",
    table(
      [
        "one DELETE (s)",
        "in batches of 5,000 (s)",
        "lethe apply (s)",
        "batching / one DELETE",
        "lethe / batched DELETE",
      ],
      [[fmt(s.ref), fmt(s.batched), fmt(s.ours), `${fmt(s.batched / s.ref)}×`, `**${fmt(s.ours / s.batched)}×**`]],
    ),
    "",
    `Rows the reference deleted: SQLite ${s.refDeleted}${p ? `, PostgreSQL ${p.refDeleted}` : ""} (its cutoff is taken a few seconds before lethe's, so rows at the boundary may differ by a handful).`,
    "",
    "Peak RSS of `lethe apply` (flat as rows grow: batches of 5,000, never all rows in memory):",
    "",
    table(
      ["rows", "peak RSS (MiB)"],
      [
        [sSmall.rows, fmt(sSmall.rss, 0)],
        [s.rows, fmt(s.rss, 0)],
      ],
    ),
    "",
  );
  return out.join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await run());
