import { type ChildProcess, spawn } from "node:child_process";
import Database from "better-sqlite3";
import { LETHE_BIN, letheIn } from "../helpers/cli.js";

export interface ServeProcess {
  proc: ChildProcess;
  port: number;
  base: string;
  /** Every JSON log line so far. */
  lines: Record<string, unknown>[];
  raw: string[];
  exited: Promise<number | null>;
  signal(sig: NodeJS.Signals): void;
}

/** Spawns the built `lethe serve --port 0` and resolves once it logs "listening". */
export function startServe(dir: string, env: Record<string, string> = {}, args: string[] = []): Promise<ServeProcess> {
  const proc = spawn(process.execPath, [LETHE_BIN, "serve", "--port", "0", ...args], {
    cwd: dir,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let buf = "";
    let stderr = "";
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${raw.join("\n")}\n${stderr}`)), 30_000);
    proc.stderr?.on("data", (d) => {
      stderr += d;
    });
    proc.stdout?.on("data", (d) => {
      buf += d;
      let i = buf.indexOf("\n");
      while (i >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        i = buf.indexOf("\n");
        raw.push(line);
        try {
          const obj = JSON.parse(line) as Record<string, unknown>;
          lines.push(obj);
          if (obj.msg === "listening") {
            clearTimeout(timer);
            const port = Number(obj.port);
            resolve({ proc, port, base: `http://127.0.0.1:${port}`, lines, raw, exited, signal: (s) => proc.kill(s) });
          }
        } catch {
          // not a log line
        }
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code} before listening:\n${raw.join("\n")}\n${stderr}`));
    });
  });
}

export async function createToken(dir: string, scopes: string): Promise<string> {
  const r = await letheIn(["token", "create", "--scopes", scopes, "--json"], dir);
  if (r.code !== 0) throw new Error(`token create failed: ${r.stderr}`);
  return (r.json as { token: string }).token;
}

type Json = Record<string, unknown>;

export async function api(
  base: string,
  token: string,
  path: string,
  init: { method?: string; body?: unknown } = {},
): Promise<{ status: number; json: Json; text: string }> {
  const res = await fetch(`${base}${path}`, {
    method: init.method ?? "GET",
    headers: {
      authorization: `Bearer ${token}`,
      ...(init.body !== undefined ? { "content-type": "application/json" } : {}),
    },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  const text = await res.text();
  let json: Json = {};
  try {
    json = JSON.parse(text) as Json;
  } catch {
    // not JSON: the caller looks at text
  }
  return { status: res.status, json, text };
}

/** Reads lethe's SQLite state read-only (WAL readers do not block the server). */
export function stateQuery<T>(dir: string, sql: string, ...params: unknown[]): T[] {
  const db = new Database(`${dir}/.lethe/state.db`, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

export function addExpiredLogs(dbPath: string, from: number, count: number, days = 40): void {
  const db = new Database(dbPath);
  const ins = db.prepare("insert into logs values (?, ?, ?, ?)");
  const at = new Date(Date.now() - days * 86_400_000).toISOString().replace("T", " ").slice(0, 23);
  db.transaction(() => {
    for (let i = 0; i < count; i++) ins.run(from + i, `user-${i % 50}`, `prompt ${i}`, at);
  })();
  db.close();
}
