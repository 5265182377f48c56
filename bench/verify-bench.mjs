// `audit verify` on a large ledger (issue 9 item 3: 10,000,000 items; full pass ≥ 1,000,000 items/s,
// incremental after one more run < 1 s, the event loop never blocked > 50 ms meanwhile). SQLite state.
// BENCH_VERIFY_ENTRIES (default 1,000,000) deleted items are appended through the ledger in batches of 5,000 (as a
// retention run records them under ledger v2: one batch entry per batch, one compact row per item), then:
//  - reference: the floor of any full check, in this process: read every item row (better-sqlite3, read-only) and
//    SHA-256 it once (no Merkle tree, no chain, no checkpoints, no head);
//  - full pass (`{ full: true, worker: true }`, what `audit verify --full` and `?full=1` run), with this
//    process's event loop watched: monitorEventLoopDelay max and the busiest 10 ms window of loop time;
//  - one more run (5,000 entries appended, a checkpoint), then the incremental pass (what `audit verify` runs).
// Standalone: `npm run build && node bench/verify-bench.mjs`.
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import Database from "better-sqlite3";
import { fmt, progress, ROOT, table, workDir } from "./lib.mjs";

const N = Number(process.env.BENCH_VERIFY_ENTRIES ?? 1_000_000);
const BATCH = 5_000;

function watchLoop() {
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  let start = performance.eventLoopUtilization();
  let busiest = 0;
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    busiest = Math.max(busiest, performance.eventLoopUtilization(now, start).active);
    start = now;
  }, 10);
  const elu0 = performance.eventLoopUtilization();
  return () => {
    clearInterval(timer);
    delay.disable();
    return {
      maxDelayMs: delay.max / 1e6,
      busiestMs: busiest,
      utilization: performance.eventLoopUtilization(elu0).utilization,
    };
  };
}

export async function run() {
  const { openLethe } = await import(join(ROOT, "dist", "index.js"));
  const dir = workDir("lethe-verify-bench-");
  mkdirSync(join(dir, "files"));
  writeFileSync(
    join(dir, "lethe.yaml"),
    `version: 1
state: ./.lethe
stores:
  f: { kind: fs, root: ./files }
datasets:
  logs: { store: f, retention: 30d, include: ["**/*"] }
`,
  );
  const lethe = await openLethe(join(dir, "lethe.yaml"), { logger: { warn() {}, info() {} } });
  let t = performance.now();
  for (let done = 0; done < N; done += BATCH)
    await lethe.ledger.append(
      Array.from({ length: Math.min(BATCH, N - done) }, (_, i) => ({
        action: "deleted",
        dataset: "logs",
        key: done + i,
        subject: `user-${(done + i) % 50_000}`,
      })),
    );
  const seedS = progress("verify seed", { items: N, seconds: (performance.now() - t) / 1000 }).seconds;

  // Reference: read every item row and SHA-256 it once, nothing else.
  const raw = new Database(join(dir, ".lethe", "state.db"), { readonly: true });
  t = performance.now();
  let n = 0;
  const stmt = raw
    .prepare("select seq, idx, item_key, key_tag, subject_tag from ledger_items order by seq, idx")
    .raw(true);
  const buf = Buffer.alloc(32);
  for (const r of stmt.iterate()) {
    buf.writeUInt32BE(r[0], 0);
    buf.writeUInt32BE(r[1], 4);
    buf.writeDoubleBE(r[2] ?? 0, 8);
    if (r[4]) r[4].copy(buf, 16);
    createHash("sha256").update(buf).digest();
    n += 1;
  }
  const refS = progress("verify reference", { rows: n, seconds: (performance.now() - t) / 1000 }).seconds;
  raw.close();

  const stop = watchLoop();
  t = performance.now();
  const full = await lethe.audit.verify({ full: true, worker: true, record: true });
  const fullS = (performance.now() - t) / 1000;
  const loop = progress("verify full", { seconds: fullS, ...stop() });
  if (!full.ok || n !== N) throw new Error(`full pass: ${JSON.stringify(full)} (${n} item rows)`);

  // One more run: a batch of entries and the checkpoint every run ends with (which verifies them first).
  await lethe.ledger.append(
    Array.from({ length: 5000 }, (_, i) => ({ action: "deleted", dataset: "logs", key: N + i, subject: `user-${i}` })),
  );
  t = performance.now();
  await lethe.audit.checkpoint();
  const cpS = (performance.now() - t) / 1000;
  await lethe.ledger.append([{ action: "deleted", dataset: "logs", key: N + 5000 }]);
  t = performance.now();
  const inc = await lethe.audit.verify({ worker: true, record: true });
  const incS = (performance.now() - t) / 1000;
  if (!inc.ok || inc.full) throw new Error(`incremental pass: ${JSON.stringify(inc)}`);
  await lethe.close();

  const rows = [
    ["reference: read + SHA-256 of every item row (no tree, no chain)", fmt(refS), fmt(n / refS / 1e6, 3), "1.00"],
    ["`audit verify --full` (worker thread)", fmt(fullS), fmt(N / fullS / 1e6, 3), fmt(fullS / refS)],
  ];
  return `## Ledger verification (issue 9 item 3, issue 10 item 6)

${N.toLocaleString("en-US")} deleted items (ledger v2: ${full.entries.toLocaleString("en-US")} entries, one per batch of ${BATCH.toLocaleString("en-US")} items with
their compact item rows; SQLite state), appended through the ledger in ${fmt(seedS, 1)} s.
Command: \`npm run build && BENCH_ONLY=verify node scripts/with-services.mjs node bench/run.mjs\`
(\`BENCH_VERIFY_ENTRIES\` sets the size).

${table(["pass", "seconds", "M items/s", "× reference"], rows)}

- Incremental after one more run: the run's closing checkpoint verified its 5,000 new items in ${fmt(cpS, 3)} s;
  \`audit verify\` (worker) then read ${inc.read} row(s) in ${fmt(incS, 3)} s (goal < 1 s: ${incS < 1 ? "reached" : "not reached"}).
- Full pass: ${fmt(N / fullS / 1e6, 3)} M items/s (goal ≥ 1 M items/s: ${N / fullS >= 1e6 ? "reached" : "not reached"}).
- Event loop of the process that asked for the full pass, meanwhile: busy ${fmt(loop.utilization * 100, 1)} % of the
  time; busiest 10 ms window ${fmt(loop.busiestMs, 1)} ms; wall-clock delay max ${fmt(loop.maxDelayMs, 1)} ms
  (goal: never blocked > 50 ms: ${loop.busiestMs <= 50 && loop.maxDelayMs <= 50 ? "reached" : "not reached"}).
`;
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(await run());
