// MariaDB retention benchmark (issue 12 item 1): lethe apply against a MariaDB target vs one raw DELETE of the same
// rows, and vs that DELETE plus an audit INSERT … SELECT of the deleted keys in one transaction, on identical copies
// in the same server. lethe's state is the default SQLite folder. BENCH_MYSQL_ROWS (default 200,000).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import mysql from "mysql2/promise";
import { fmt, lethe, table, timed, workDir } from "./lib.mjs";

const CUTOFF = "utc_timestamp(6) - interval 30 day";

async function seed(admin, db, rows) {
  await admin.query(`drop database if exists \`${db}\``);
  await admin.query(`create database \`${db}\` character set utf8mb4`);
  await admin.query(`create table \`${db}\`.inference_logs (id bigint primary key, model_name varchar(64),
    user_id varchar(64), prompt_text text, response_text text, created_at datetime(6) not null,
    retention_days int not null, index il_user (user_id), index il_created (created_at))`);
  // Ages spread evenly over 120 days: with a 30-day TTL, 75 % are expired. seq_1_to_N is MariaDB's sequence engine.
  await admin.query(`insert into \`${db}\`.inference_logs select seq, concat('model-', seq % 3),
    concat('user-', seq % 50000), concat('prompt text number ', seq), concat('response ', seq),
    utc_timestamp(6) - interval ((seq * 7919) % (120 * 86400)) second, 30 from seq_1_to_${rows}`);
  await admin.query(`analyze table \`${db}\`.inference_logs`);
}

/** A statement list timed in its own node process, as the other references are. */
function timedSql(url, statements) {
  const mod = JSON.stringify(join(process.cwd(), "node_modules/mysql2/promise"));
  return timed(process.execPath, [
    "-e",
    `const m=require(${mod});(async()=>{const c=await m.createConnection(${JSON.stringify(url)});
     await c.query("set time_zone = '+00:00'");let n=0;for(const s of ${JSON.stringify(statements)}){const [r]=await c.query(s);
     if(/^delete/.test(s))n=r.affectedRows;}await c.end();console.log(n)})()`,
  ]);
}

export async function run() {
  const base = process.env.LETHE_TEST_MYSQL_URL;
  if (!base) return "## MariaDB retention (issue 12)\n\nSKIPPED: LETHE_TEST_MYSQL_URL is not set.\n";
  const rows = Number(process.env.BENCH_MYSQL_ROWS ?? 200_000);
  const admin = await mysql.createConnection(base);
  await admin.query("set time_zone = '+00:00'");
  const names = ["a", "b", "c"].map((x) => `lethe_bench_${x}_${process.pid}`);
  for (const n of names) await seed(admin, n, rows);
  const urlOf = (n) => {
    const u = new URL(base);
    u.pathname = `/${n}`;
    return u.toString();
  };
  const dir = workDir("lethe-bench-mysql-");
  writeFileSync(
    join(dir, "lethe.yaml"),
    `version: 1
state: ./.lethe
stores:
  db: { kind: sql, url: ${JSON.stringify(urlOf(names[0]))} }
datasets:
  inference_logs: { store: db, table: inference_logs, key: id, subject: user_id, createdAt: created_at, retention: 30d }
`,
  );
  lethe(["audit", "verify"], dir); // state, keys and master key outside the timing
  const ref = timedSql(urlOf(names[1]), [`delete from inference_logs where created_at <= ${CUTOFF}`]);
  const audited = timedSql(urlOf(names[2]), [
    "create table audit (item_key bigint, subject varchar(64), index a_k (item_key), index a_s (subject))",
    "begin",
    `insert into audit select id, user_id from inference_logs where created_at <= ${CUTOFF}`,
    `delete from inference_logs where created_at <= ${CUTOFF}`,
    "commit",
  ]);
  const ours = lethe(["apply", "--force", "--json"], dir);
  const deleted = JSON.parse(ours.stdout).datasets[0].deleted;
  const [[flush]] = await admin.query("select @@innodb_flush_log_at_trx_commit as f");
  for (const n of names) await admin.query(`drop database if exists \`${n}\``);
  await admin.end();
  return [
    "## MariaDB retention (issue 12)",
    "",
    `\`lethe apply\` against a MariaDB target (\`DELETE … RETURNING\` batches of 5,000, one ledger entry per row, state in SQLite) vs references on identical copies in the same server (innodb_flush_log_at_trx_commit = ${flush.f}, as the test harness starts it): one raw \`DELETE … WHERE created_at <= cutoff\`, and that DELETE plus an audit \`INSERT … SELECT\` of the deleted keys in one transaction. Command: \`BENCH_ONLY=mysql node scripts/with-services.mjs node bench/run.mjs\`.`,
    "",
    table(
      ["rows", "deleted", "lethe apply (s)", "DELETE (s)", "ratio", "DELETE + audit INSERT (s)", "ratio"],
      [
        [
          rows,
          deleted,
          fmt(ours.seconds),
          fmt(ref.seconds),
          `**${fmt(ours.seconds / ref.seconds)}×**`,
          fmt(audited.seconds),
          `**${fmt(ours.seconds / audited.seconds)}×**`,
        ],
      ],
    ),
    "",
    `Rows the reference deleted: ${ref.stdout.trim()}. Peak RSS of \`lethe apply\`: ${fmt(ours.rssMiB ?? 0, 0)} MiB.`,
    "",
  ].join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await run());
