// `lethe serve` under load (loopback only, bounded): POST /v1/events/inference-complete with autocannon for
// BENCH_SERVE_SECONDS (default 30), SQLite state. Reports requests/s and p99, checks that every acknowledged
// event is on the ledger (count equality) and that its artifact is deleted once the queue drains, then kills
// the server with SIGKILL mid-load, restarts it and checks that no acknowledged event was lost.
// Reference in the same run: GET /healthz (the HTTP stack without auth or state) on the same connections.
// Standalone: `npm run build && node bench/serve-bench.mjs`.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import autocannon from "autocannon";
import Database from "better-sqlite3";
import { BIN, fmt, ROOT, table, workDir } from "./lib.mjs";

const SECONDS = Number(process.env.BENCH_SERVE_SECONDS ?? 30);
const CONNECTIONS = Number(process.env.BENCH_SERVE_CONNECTIONS ?? 16);
const ROWS = 400_000;

function project() {
  const dir = workDir("lethe-serve-bench-");
  const db = new Database(join(dir, "app.db"));
  db.exec("create table uploads (id integer primary key, user_id text, created_at text not null)");
  const ins = db.prepare("insert into uploads values (?, ?, ?)");
  const now = new Date().toISOString();
  db.transaction(() => {
    for (let i = 1; i <= ROWS; i++) ins.run(i, `user-${i % 1000}`, now);
  })();
  db.close();
  writeFileSync(
    join(dir, "lethe.yaml"),
    `version: 1
state: ./.lethe
secrets: { masterKey: env:LETHE_MASTER_KEY }
stores:
  appdb: { kind: sql, url: "sqlite:./app.db" }
datasets:
  uploads: { store: appdb, table: uploads, key: id, subject: user_id, createdAt: created_at, retention: 30d, events: true }
# One token drives the whole load: the bench measures intake capacity, not the per-token limiter.
server: { rateLimit: { events: { perSecond: 1000000, burst: 1000000 } }, maxConnections: 4096 }
`,
  );
  return dir;
}

function cli(dir, env, args) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, env, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`lethe ${args.join(" ")}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

function serve(dir, env) {
  // Logs go to a file, as under systemd or Kubernetes; the load generator in this process must not read them.
  const log = join(dir, `serve-${Date.now()}.log`);
  const fd = openSync(log, "w");
  const proc = spawn(process.execPath, [BIN, "serve", "--port", "0"], {
    cwd: dir,
    env,
    stdio: ["ignore", fd, "inherit"],
  });
  closeSync(fd);
  let done = false;
  const exited = new Promise((r) => proc.on("exit", (code, sig) => r(code ?? sig)));
  exited.then(() => (done = true));
  return new Promise((resolve, reject) => {
    const poll = () => {
      const m = /"port":(\d+)[^\n]*"msg":"listening"/.exec(readFileSync(log, "utf8"));
      if (m) return resolve({ proc, port: Number(m[1]), exited, base: `http://127.0.0.1:${m[1]}` });
      if (done) return reject(new Error(`serve exited before listening: ${readFileSync(log, "utf8")}`));
      setTimeout(poll, 50);
    };
    poll();
  });
}

function load(opts) {
  return new Promise((resolve, reject) => {
    const inst = autocannon({ connections: CONNECTIONS, pipelining: 1, ...opts }, (err, res) =>
      err ? reject(err) : resolve(res),
    );
    opts.onInstance?.(inst);
  });
}

/** Unique event per request; ids acknowledged with 202 are collected. */
function eventLoad(base, token, seconds, prefix, acked, extra = {}) {
  let n = 0;
  return load({
    url: base,
    duration: seconds,
    ...extra,
    requests: [
      {
        method: "POST",
        path: "/v1/events/inference-complete",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        setupRequest(req, ctx) {
          n += 1;
          ctx.id = `${prefix}-${n}`;
          ctx.key = (n % ROWS) + 1;
          req.body = JSON.stringify({ requestId: ctx.id, artifacts: [{ dataset: "uploads", key: ctx.key }] });
          return req;
        },
        onResponse(status, _body, ctx) {
          if (status === 202) acked.set(ctx.id, ctx.key);
        },
      },
    ],
  });
}

async function metric(base, token, name) {
  const text = await (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
  const m = new RegExp(`^${name} (\\d+)`, "m").exec(text);
  return m ? Number(m[1]) : Number.NaN;
}
const queueDepth = (base, token) => metric(base, token, "lethe_event_queue_depth");

async function ledgerCheck(dir, env, acked) {
  const { openLethe } = await import(join(ROOT, "dist", "index.js"));
  const saved = process.env.LETHE_MASTER_KEY;
  process.env.LETHE_MASTER_KEY = env.LETHE_MASTER_KEY;
  const lethe = await openLethe(join(dir, "lethe.yaml"), {
    logger: { warn() {}, info() {} },
    events: { autoRetry: false },
  });
  try {
    const count = async (action) =>
      Number(
        (
          await lethe.state.db
            .selectFrom("ledger")
            .select((eb) => eb.fn.countAll().as("n"))
            .where("action", "=", action)
            .executeTakeFirst()
        ).n,
      );
    let missing = 0;
    for (const id of acked.keys()) if (!(await lethe.events.getByRequest(id))) missing++;
    const depth = await lethe.events.depth();
    const verify = await lethe.audit.verify();
    return { received: await count("event_received"), deleted: await count("deleted"), missing, depth, verify };
  } finally {
    await lethe.close();
    process.env.LETHE_MASTER_KEY = saved;
  }
}

export async function run() {
  const dir = project();
  const env = { ...process.env, LETHE_MASTER_KEY: randomBytes(32).toString("hex") };
  delete env.LETHE_ACCESS_LOG;
  const token = cli(dir, env, ["token", "create", "--scopes", "events:write,read", "--json"]).token;

  // 1. Sustained load.
  let s = await serve(dir, env);
  await load({ url: `${s.base}/healthz`, duration: 2 }); // warm-up
  const ref = await load({ url: `${s.base}/healthz`, duration: Math.min(10, SECONDS) });
  const acked = new Map();
  const main = await eventLoad(s.base, token, SECONDS, "load", acked);
  // The server's own count of events it stored and answered 202 (the client may drop the last in-flight replies).
  const serverAcked = await metric(s.base, token, "lethe_events_accepted_total");
  const drainStart = Date.now();
  while ((await queueDepth(s.base, token)) > 0 && Date.now() - drainStart < 600_000)
    await new Promise((r) => setTimeout(r, 250));
  const drainSeconds = (Date.now() - drainStart) / 1000;
  s.proc.kill("SIGTERM");
  await s.exited;
  const c1 = await ledgerCheck(dir, env, acked);

  // 2. SIGKILL in the middle of the load, then restart.
  s = await serve(dir, env);
  const ackedKill = new Map();
  const killAfter = Math.max(2, Math.min(5, SECONDS / 3));
  let inst;
  const killed = eventLoad(s.base, token, killAfter * 3, "kill", ackedKill, { onInstance: (i) => (inst = i) });
  await new Promise((r) => setTimeout(r, killAfter * 1000));
  s.proc.kill("SIGKILL");
  await s.exited;
  inst?.stop();
  const k = await killed;
  s = await serve(dir, env); // restart: the queue is drained from the durable state
  const drain2 = Date.now();
  while ((await queueDepth(s.base, token)) > 0 && Date.now() - drain2 < 600_000)
    await new Promise((r) => setTimeout(r, 250));
  s.proc.kill("SIGTERM");
  await s.exited;
  const c2 = await ledgerCheck(dir, env, new Map([...acked, ...ackedKill]));

  const rps = main["2xx"] / main.duration;
  const rows = [
    [
      "GET /healthz (reference)",
      fmt(ref.duration, 0),
      ref["2xx"],
      fmt(ref.requests.average, 0),
      fmt(ref.latency.p50, 1),
      fmt(ref.latency.p99, 1),
      "1.00",
    ],
    [
      "POST /v1/events/inference-complete",
      fmt(main.duration, 0),
      main["2xx"],
      fmt(rps, 0),
      fmt(main.latency.p50, 1),
      fmt(main.latency.p99, 1),
      fmt(rps / ref.requests.average, 2),
    ],
  ];
  const ok1 = c1.received === serverAcked && c1.missing === 0 && main.non2xx === 0;
  const ok2 = c2.missing === 0 && c2.received >= acked.size + ackedKill.size;
  return `## serve: inference-complete events over HTTP (SQLite state)

autocannon, ${CONNECTIONS} connections, loopback, ${SECONDS} s; every request a new event with one artifact (a row to delete);
202 only after the event and its \`event_received\` ledger entry are committed (group commit, WAL fsync).

${table(["load", "seconds", "2xx", "req/s", "p50 ms", "p99 ms", "vs reference"], rows)}

- Target ≥ 2,000 acknowledged events/s with p99 < 25 ms: **${rps >= 2000 && main.latency.p99 < 25 ? "met" : "NOT met"}** (${fmt(rps, 0)}/s, p99 ${fmt(main.latency.p99, 1)} ms); non-2xx ${main.non2xx}, errors ${main.errors}.
- Count equality after the run: the server acknowledged ${serverAcked} events (the client saw ${acked.size} replies before it stopped), the ledger holds ${c1.received} \`event_received\` entries, and ${c1.missing} client-acknowledged events are missing from the queue: **${ok1 ? "equal" : "NOT equal"}**.
- While intake was hot the drainer processed in small spaced passes; the queue drained ${fmt(drainSeconds, 1)} s after the load stopped (${fmt(serverAcked / Math.max(drainSeconds, 0.001), 0)} events/s overall); ${c1.deleted} rows deleted, one per acknowledged event: ${c1.deleted === serverAcked ? "equal" : "NOT equal"}; ledger verifies: ${c1.verify.ok}.
- SIGKILL after ${fmt(killAfter, 1)} s of load, then restart: ${ackedKill.size} acknowledged before the kill (${k.errors} client errors after it), ${c2.missing} of all acknowledged events lost, ${c2.received} \`event_received\` entries in total (≥ acknowledged: ${c2.received >= acked.size + ackedKill.size}; events stored but not yet answered when killed may add a few): **${ok2 ? "none lost" : "LOST EVENTS"}**; after the restart the queue held pending ${c2.depth.pending}, failed ${c2.depth.failed}; ledger verifies: ${c2.verify.ok}.
`;
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(await run());
