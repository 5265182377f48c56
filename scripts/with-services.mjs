#!/usr/bin/env node
// Usage: node scripts/with-services.mjs <command> [args...]
// Starts a throwaway PostgreSQL cluster, MariaDB server, Redis server and s3rver, runs <command> with
// LETHE_TEST_PG_URL, LETHE_TEST_MYSQL_URL, LETHE_TEST_REDIS_URL, LETHE_TEST_S3_ENDPOINT (+ AWS_* for
// s3rver) and LETHE_CHROMIUM (if installed) set, then tears everything down (also on failure and
// SIGINT/SIGTERM/SIGHUP) and exits with the command's code.
// Knobs: PG_BIN=<dir with initdb/pg_ctl>; LETHE_SKIP_PG=1, LETHE_SKIP_MYSQL=1, LETHE_SKIP_REDIS=1 run
// without that server.
import { spawn, spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { constants, tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startDaemon } from "./daemon-child.mjs";
import { startS3rver } from "./s3rver-child.mjs";

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const IS_ROOT = process.getuid?.() === 0;
const tempDirs = [];
let pg; // { bin, data, as } once a cluster is running
let s3; // { port, stop } once s3rver is running
const daemons = []; // { stop } for each MariaDB/Redis server started
let stopping = false; // set when teardown begins, so an in-flight setup starts nothing more

const log = (msg) => process.stderr.write(`with-services: ${msg}\n`);

function tempDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** Runs a command to completion, capturing stdout+stderr so that success stays quiet. */
function run(cmd, args, opts = {}) {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], ...opts });
    let out = "";
    for (const stream of [p.stdout, p.stderr]) stream.on("data", (d) => (out += d));
    p.on("error", (err) => resolve({ code: 127, out: `${out}${err.message}\n` }));
    p.on("close", (code) => resolve({ code: code ?? 1, out }));
  });
}

/** Signals pid and all its descendants: `sh -c`, npx and npm do not forward signals to their children. */
function killTree(pid, sig) {
  const all = [pid];
  try {
    const kids = new Map();
    for (const p of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
      const stat = readFileSync(`/proc/${p}/stat`, "utf8"); // "pid (comm) state ppid ..."
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      kids.set(ppid, [...(kids.get(ppid) ?? []), Number(p)]);
    }
    for (let i = 0; i < all.length; i++) all.push(...(kids.get(all[i]) ?? []));
  } catch {} // no /proc (macOS), or a process vanished mid-scan: signal what we found
  // kill(1) keeps going past pids that exited meanwhile, unlike a process.kill() loop.
  spawnSync("sh", ["-c", 'kill -s "$0" "$@" 2>/dev/null', sig.slice(3), ...all.map(String)]);
}

/** Asks the kernel for a free loopback port (a tiny race remains; startPg retries). */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer().on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** PG_BIN, else the newest /usr/lib/postgresql/<v>/bin (Debian), else the directory of initdb on PATH. */
function findPgBin() {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const base = "/usr/lib/postgresql";
  const versions = existsSync(base) ? readdirSync(base).filter((v) => existsSync(join(base, v, "bin/initdb"))) : [];
  versions.sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
  if (versions[0]) return join(base, versions[0], "bin");
  return (process.env.PATH ?? "").split(delimiter).find((d) => d && existsSync(join(d, "initdb")));
}

async function startPg() {
  if (!findPgBin() && IS_ROOT && existsSync("/etc/debian_version")) {
    log("PostgreSQL not found; installing it with apt-get (one-time) ...");
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    const r = await run("sh", ["-c", "apt-get update -q && apt-get install -y -q postgresql"], { env });
    if (r.code !== 0) process.stderr.write(r.out);
  }
  const bin = findPgBin();
  const hint = "install them (apt-get install postgresql), set PG_BIN to their directory, or set LETHE_SKIP_PG=1";
  if (!bin || !existsSync(join(bin, "pg_ctl"))) throw new Error(`PostgreSQL initdb/pg_ctl not found: ${hint}`);
  // initdb/postgres refuse to run as root, so as root every PG command runs as the `postgres` user.
  const pwd = IS_ROOT ? readFileSync("/etc/passwd", "utf8").match(/^postgres:[^:]*:(\d+):(\d+):/m) : null;
  if (IS_ROOT && !pwd) throw new Error("running as root, but there is no `postgres` user to run PostgreSQL as");
  const dir = tempDir("lethe-pg-");
  const as = pwd ? { uid: Number(pwd[1]), gid: Number(pwd[2]), cwd: dir } : { cwd: dir };
  if (pwd) chownSync(dir, as.uid, as.gid);
  const data = join(dir, "data");
  // --no-locale: the machine's LANG may name an ungenerated locale; C collation is deterministic too.
  const initArgs = ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--no-locale"];
  const init = await run(join(bin, "initdb"), initArgs, as);
  if (init.code !== 0) throw new Error(`initdb failed:\n${init.out}`);
  for (let attempt = 1; !stopping; attempt++) {
    const port = await freePort();
    const opts = `-k ${dir} -c listen_addresses=127.0.0.1 -p ${port} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`;
    const logFile = join(dir, "postgres.log");
    const r = await run(join(bin, "pg_ctl"), ["-w", "-D", data, "-l", logFile, "-o", opts, "start"], as);
    if (r.code === 0) {
      pg = { bin, data, as };
      return port;
    }
    // Most likely something grabbed the port between freePort() and bind: retry with a new one.
    if (attempt >= 3) throw new Error(`pg_ctl start failed:\n${r.out}\n${readFileSync(logFile, "utf8")}`);
  }
}

/** Installs apt packages once when running as root on Debian and `probe` is not on PATH. */
async function ensureInstalled(probe, pkg) {
  const onPath = (process.env.PATH ?? "")
    .split(delimiter)
    .concat("/usr/sbin")
    .some((d) => d && existsSync(join(d, probe)));
  if (onPath || !IS_ROOT || !existsSync("/etc/debian_version")) return;
  log(`${probe} not found; installing ${pkg} with apt-get (one-time) ...`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const r = await run("sh", ["-c", `apt-get update -q && apt-get install -y -q ${pkg}`], { env });
  if (r.code !== 0) process.stderr.write(r.out);
}

/** Starts `spawnOnce(port)` on a free port, retrying with a new port if the server dies before ready. */
async function onFreePort(what, spawnOnce) {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      const d = await spawnOnce(port);
      daemons.push(d);
      return port;
    } catch (err) {
      // Most likely something grabbed the port between freePort() and bind: retry with a new one.
      if (attempt >= 3 || stopping) throw new Error(`${what} failed to start: ${err.message}`);
    }
  }
}

/** A private MariaDB server on 127.0.0.1 (root, no password), durability relaxed for speed. */
async function startMariadb() {
  await ensureInstalled("mariadbd", "mariadb-server");
  const dir = tempDir("lethe-mysql-");
  // mariadbd refuses to run as root unless told which user to switch to; the datadir must be theirs.
  const user = IS_ROOT ? ["--user=mysql"] : [];
  const pwd = IS_ROOT ? readFileSync("/etc/passwd", "utf8").match(/^mysql:[^:]*:(\d+):(\d+):/m) : null;
  if (IS_ROOT && !pwd) throw new Error("running as root, but there is no `mysql` user to run MariaDB as");
  if (pwd) chownSync(dir, Number(pwd[1]), Number(pwd[2]));
  const data = join(dir, "data");
  const install = existsSync("/usr/bin/mariadb-install-db") ? "mariadb-install-db" : "mysql_install_db";
  const initArgs = ["--no-defaults", `--datadir=${data}`, "--auth-root-authentication-method=normal"];
  const init = await run(install, [...initArgs, "--skip-test-db", "--skip-name-resolve", ...user], { cwd: dir });
  if (init.code !== 0) throw new Error(`${install} failed:\n${init.out}`);
  return onFreePort("mariadbd", (port) =>
    startDaemon({
      cmd: existsSync("/usr/sbin/mariadbd") ? "/usr/sbin/mariadbd" : "mariadbd",
      args: [
        "--no-defaults",
        `--datadir=${data}`,
        `--socket=${join(dir, "mysqld.sock")}`,
        `--pid-file=${join(dir, "mysqld.pid")}`,
        `--port=${port}`,
        "--bind-address=127.0.0.1",
        "--skip-name-resolve",
        "--innodb-buffer-pool-size=32M",
        "--innodb-log-file-size=16M",
        "--innodb-flush-log-at-trx-commit=2",
        "--sync-binlog=0",
        "--max-connections=300",
        ...user,
      ],
      cwd: dir,
      ready: /ready for connections/,
      what: "mariadbd",
    }),
  );
}

/** A private Redis server on 127.0.0.1 that never persists anything. */
async function startRedis() {
  await ensureInstalled("redis-server", "redis-server");
  const dir = tempDir("lethe-redis-");
  return onFreePort("redis-server", (port) =>
    startDaemon({
      cmd: "redis-server",
      args: ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir],
      cwd: dir,
      ready: /Ready to accept connections/,
      what: "redis-server",
    }),
  );
}

async function cleanup() {
  await Promise.all(daemons.map((d) => d.stop()));
  if (pg) {
    const r = await run(join(pg.bin, "pg_ctl"), ["-D", pg.data, "-m", "immediate", "-w", "stop"], pg.as);
    // If pg_ctl failed the postmaster may still be up: kill it and its backends so no cluster outlives us.
    const pidFile = join(pg.data, "postmaster.pid");
    if (r.code !== 0 && existsSync(pidFile)) killTree(Number(readFileSync(pidFile, "utf8").split("\n")[0]), "SIGKILL");
  }
  await s3?.stop();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
}

/** The single exit path: lets in-flight setup settle (so nothing starts after teardown), cleans up, exits. */
async function finish(code, setup) {
  if (stopping) return;
  stopping = true;
  await setup?.catch(() => {});
  await cleanup().catch((err) => log(`cleanup failed: ${err.message}`));
  process.exit(code);
}

/** Starts the services, logs the one-line summary, and returns the environment additions for the command. */
async function startServices() {
  const env = {};
  const summary = [];
  const t0 = Date.now();
  const since = () => `ready in ${((Date.now() - t0) / 1000).toFixed(1)}s`;
  // The servers start concurrently: MariaDB's bootstrap alone takes seconds.
  const starts = [
    ["pg", "postgres", startPg, (port) => (env.LETHE_TEST_PG_URL = `postgres://postgres@127.0.0.1:${port}/postgres`)],
    ["mysql", "mariadb", startMariadb, (port) => (env.LETHE_TEST_MYSQL_URL = `mysql://root@127.0.0.1:${port}/mysql`)],
    ["redis", "redis", startRedis, (port) => (env.LETHE_TEST_REDIS_URL = `redis://127.0.0.1:${port}`)],
  ].map(async ([knob, name, start, setEnv]) => {
    const skip = `LETHE_SKIP_${knob.toUpperCase()}`;
    if (process.env[skip] === "1") return `${name} skipped (${skip}=1)`;
    const port = await start();
    setEnv(port);
    return `${name} 127.0.0.1:${port} (${since()})`;
  });
  const results = await Promise.allSettled(starts);
  const failed = results.find((r) => r.status === "rejected");
  if (failed) throw failed.reason;
  summary.push(...results.map((r) => r.value));
  if (stopping) return {};
  s3 = await startS3rver(tempDir("lethe-s3-"));
  summary.push(`s3rver 127.0.0.1:${s3.port}`);
  Object.assign(env, {
    LETHE_TEST_S3_ENDPOINT: `http://127.0.0.1:${s3.port}`,
    // s3rver's fixed credentials; a real session token or profile must not leak into test clients.
    AWS_ACCESS_KEY_ID: "S3RVER",
    AWS_SECRET_ACCESS_KEY: "S3RVER",
    AWS_REGION: "us-east-1",
    AWS_SESSION_TOKEN: undefined,
    AWS_PROFILE: undefined,
    // The SDK's default streaming checksums use aws-chunked framing, which s3rver stores verbatim
    // (corrupting streamed uploads); send checksums only where S3 requires them (e.g. DeleteObjects).
    AWS_REQUEST_CHECKSUM_CALCULATION: "WHEN_REQUIRED",
    // The SDK warns once per process that it will require Node 22 from 2027: noise in every test file.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  });
  if (!process.env.LETHE_CHROMIUM && existsSync("/usr/bin/chromium")) env.LETHE_CHROMIUM = "/usr/bin/chromium";
  summary.push(`chromium ${env.LETHE_CHROMIUM ?? process.env.LETHE_CHROMIUM ?? "absent"}`);
  // Like `npm run` does, so `vitest run` also works when this script is invoked directly.
  env.PATH = `${join(ROOT, "node_modules", ".bin")}${delimiter}${process.env.PATH ?? ""}`;
  log(summary.join(", "));
  return env;
}

const [cmd, ...args] = process.argv.slice(2);
if (!cmd) {
  log("usage: node scripts/with-services.mjs <command> [args...]");
  process.exit(2);
}
let command;
const setup = startServices().then((extra) => {
  if (stopping) return;
  command = spawn(cmd, args, { stdio: "inherit", env: { ...process.env, ...extra } });
  command.on("error", (err) => {
    log(`cannot run ${cmd}: ${err.message}`);
    finish(127);
  });
  command.on("exit", (code, signal) => finish(code ?? 128 + (constants.signals[signal] ?? 0)));
});
setup.catch((err) => {
  log(err.message);
  finish(1, setup);
});

let signals = 0;
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(sig, () => {
    // First signal: forward it and let the command's exit drive teardown (SIGKILL after 10s if it
    // ignores us). A second signal, or one before the command started, tears down right away.
    const running = command && command.exitCode === null && command.signalCode === null;
    if (running) killTree(command.pid, ++signals === 1 ? sig : "SIGKILL");
    if (running && signals === 1) setTimeout(() => killTree(command.pid, "SIGKILL"), 10_000).unref();
    else finish(128 + constants.signals[sig], setup);
  });
}
