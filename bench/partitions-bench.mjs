// Partition retention benchmark (issue 12): a table RANGE-partitioned by day, 75 % of it in wholly expired
// partitions. `lethe apply` with `ledger: partitions` vs a raw `DROP TABLE` of the same partitions, and with
// `ledger: items` vs a raw `DELETE` of the same rows, each pair on identical copies (CREATE DATABASE … TEMPLATE)
// in the same run, on the same cluster with the same settings (fsync, synchronous_commit and full-page writes on for
// the whole cluster while either side is timed).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { durable, fmt, lethe, table, timed, workDir } from "./lib.mjs";

const DAYS = 120;
const RETENTION_DAYS = 30;

async function build(admin, url, name, rows) {
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.query(`create database ${name}`);
  const c = new pg.Client({ connectionString: dbUrl(url, name) });
  await c.connect();
  await c.query(`create table events (id bigint not null, user_id text, note text, created_at timestamptz not null,
    primary key (id, created_at)) partition by range (created_at)`);
  const today = Math.floor(Date.now() / 86_400_000) * 86_400;
  for (let d = -DAYS; d <= 1; d++) {
    const lo = new Date((today + d * 86_400) * 1000).toISOString();
    const hi = new Date((today + (d + 1) * 86_400) * 1000).toISOString();
    await c.query(`create table events_d${d + DAYS} partition of events for values from ('${lo}') to ('${hi}')`);
  }
  await c.query("create table events_default partition of events default");
  // Ages spread evenly over 120 days: with a 30-day retention, 75 % are expired, nearly all in whole partitions.
  await c.query(`insert into events select i, 'user-' || (i % 50000), 'note ' || i,
    now() - ((i::bigint * 7919) % (${DAYS} * 86400)) * interval '1 second' from generate_series(1, ${rows}) i`);
  await c.query("create index events_created on events (created_at); create index events_user on events (user_id)");
  await c.query("vacuum analyze events");
  await c.end();
}

function dbUrl(url, name) {
  return url.replace(/\/[^/]*$/, `/${name}`);
}

async function clone(admin, template, name) {
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.query(`create database ${name} template ${template}`);
}

function project(url, mode) {
  const dir = workDir(`lethe-bench-part-${mode}-`);
  writeFileSync(
    join(dir, "lethe.yaml"),
    `version: 1
state: ./.lethe
safety: { maxFraction: 1 }
stores:
  db: { kind: sql, url: ${JSON.stringify(url)} }
datasets:
  events: { store: db, table: events, key: id, subject: user_id, createdAt: created_at, retention: ${RETENTION_DAYS}d, ledger: ${mode} }
`,
  );
  lethe(["audit", "verify"], dir); // state, keys and master key made outside the timing
  return dir;
}

/** A spawned node process running one statement list against `url`; prints the rows it touched. */
function reference(url, statements) {
  const pgPath = join(process.cwd(), "node_modules/pg");
  return timed(process.execPath, [
    "-e",
    `const pg=require(${JSON.stringify(pgPath)});(async()=>{const c=new pg.Client({connectionString:${JSON.stringify(url)}});await c.connect();
     let n=0;for(const s of ${JSON.stringify(statements)}){const r=await c.query(s);n+=r.rowCount??0}await c.end();console.log(n)})()`,
  ]);
}

async function expiredPartitions(url) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const cutoff = Date.now() / 1000 - RETENTION_DAYS * 86_400;
  const r = await c.query(`select c.relname as name, pg_get_expr(c.relpartbound, c.oid) as bound
    from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = 'events'::regclass`);
  const out = [];
  for (const row of r.rows) {
    const m = /TO \('(.+)'\)$/.exec(row.bound);
    if (m && Date.parse(m[1].replace(" ", "T").replace(/\+00$/, "Z")) / 1000 <= cutoff) out.push(row.name);
  }
  const n = await c.query(
    `select count(*)::int as n from events where created_at <= now() - interval '${RETENTION_DAYS} days'`,
  );
  await c.end();
  return { names: out, expiredRows: n.rows[0].n };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** One timed pair (and, for partitions, the same-end-state reference) on fresh copies of the template. */
async function measure(admin, url, tpl, mode, names, fixed) {
  const [ours, ref, same] = ["a", "b", "c"].map((x) => `lethe_bench_part_${mode}_${x}_${process.pid}`);
  const dbs = mode === "partitions" ? [ours, ref, same] : [ours, ref];
  for (const n of dbs) await clone(admin, tpl, n);
  const rowDelete = `delete from events where created_at <= now() - interval '${RETENTION_DAYS} days'`;
  const statements = mode === "partitions" ? [`drop table ${names.join(", ")}`] : [rowDelete];
  const dir = project(dbUrl(url, ours), mode);
  await admin.query("checkpoint");
  await durable(admin, true);
  const r = reference(dbUrl(url, ref), statements);
  // lethe also row-deletes the expired rows of the boundary partition: the raw run that leaves the same table.
  const r2 = mode === "partitions" ? reference(dbUrl(url, same), [...statements, rowDelete]) : undefined;
  const l = lethe(["apply", "--json"], dir);
  // The same command again, with nothing left to delete: what any run costs (process start, config, state, run entries).
  fixed.push(lethe(["apply", "--json"], dir).seconds);
  await durable(admin, false);
  for (const n of dbs) await admin.query(`drop database if exists ${n} with (force)`);
  return {
    l: l.seconds,
    r: r.seconds,
    r2: r2?.seconds,
    rssMiB: l.rssMiB,
    result: JSON.parse(l.stdout).datasets[0],
    boundaryRows: r2 ? Number(r2.stdout.trim()) : 0,
  };
}

export async function run() {
  const url = process.env.LETHE_TEST_PG_URL;
  if (!url)
    return "## Partition retention (issue 12)\n\nSKIPPED: no PostgreSQL (run through scripts/with-services.mjs)\n";
  const rows = Number(process.env.BENCH_PARTITION_ROWS ?? 1_000_000);
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const tpl = `lethe_bench_part_tpl_${process.pid}`;
  const t0 = Date.now();
  await build(admin, url, tpl, rows);
  const buildSeconds = (Date.now() - t0) / 1000;
  const { names, expiredRows } = await expiredPartitions(dbUrl(url, tpl));
  const lines = [];
  const fixed = [];
  const repeat = Number(process.env.BENCH_PARTITION_REPEAT ?? 1);
  // BENCH_PARTITION_MODES=partitions runs one pair only (the items mode at 10,000,000 rows outlasts a bounded run).
  for (const mode of (process.env.BENCH_PARTITION_MODES ?? "partitions,items").split(",")) {
    const runs = [];
    for (let i = 0; i < repeat; i++) runs.push(await measure(admin, url, tpl, mode, names, fixed));
    const l = median(runs.map((x) => x.l));
    const r = median(runs.map((x) => x.r));
    const { result, rssMiB, boundaryRows } = runs[0];
    const goal = mode === "partitions" ? 1.5 : 2;
    const row = (reference, seconds, target) => [
      `\`ledger: ${mode}\``,
      reference,
      result.deleted,
      result.partitionsDropped ?? 0,
      fmt(l),
      fmt(seconds),
      `**${fmt(l / seconds)}×**`,
      target,
      fmt(rssMiB ?? 0, 0),
    ];
    lines.push(
      row(
        mode === "partitions"
          ? `\`DROP TABLE\` of the ${names.length} partitions`
          : "`DELETE … WHERE created_at <= cutoff`",
        r,
        `≤ ${goal}×`,
      ),
    );
    if (mode === "partitions")
      lines.push(
        row(
          `the same \`DROP TABLE\` + \`DELETE\` of the ${boundaryRows.toLocaleString("en")} expired boundary rows (same end state)`,
          median(runs.map((x) => x.r2)),
          "—",
        ),
      );
  }
  await admin.query(`drop database if exists ${tpl} with (force)`);
  await admin.end();
  return [
    "## Partition retention (issue 12)",
    "",
    `${rows.toLocaleString("en")} rows in ${DAYS + 2} daily partitions of a \`timestamptz\`-partitioned table plus a default one (built in ${fmt(buildSeconds, 0)} s),`,
    `retention ${RETENTION_DAYS}d: ${expiredRows.toLocaleString("en")} rows expired, ${names.length} partitions wholly expired.`,
    "Each pair runs on identical copies (`CREATE DATABASE … TEMPLATE`) of the same cluster, with `fsync`,",
    "`synchronous_commit` and `full_page_writes` on for the whole cluster while either side is timed (the test harness",
    "starts it with them off). lethe is the spawned CLI (`lethe apply --json`, state in the default SQLite folder, hash",
    "chain and signed checkpoint included); the reference is a spawned node process running the raw statement.",
    `Times are medians of ${repeat} run${repeat > 1 ? "s" : ""} (each on fresh copies). The same \`lethe apply\` run again with nothing left to delete`,
    `took ${fmt(median(fixed))} s (median): what any run costs (process start, config, state, run entries, checkpoint).`,
    "",
    table(
      [
        "lethe",
        "reference",
        "deleted",
        "partitions dropped",
        "lethe (s)",
        "reference (s)",
        "ratio",
        "target",
        "peak RSS (MiB)",
      ],
      lines,
    ),
    "",
  ].join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await run());
