import { lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach } from "vitest";
import { stringify } from "yaml";
import { type Lethe, type OpenOptions, openLethe } from "../../src/lethe.js";
import type { Workspace } from "../../src/transient/workspace.js";
import { tempDir } from "../helpers/cli.js";

/** A project for transient tests: an fs store with an `uploads` dataset, a private workspace root, SQLite or PostgreSQL state. */
export interface TransientProject {
  dir: string;
  data: string;
  root: string;
  config: Record<string, unknown>;
  configPath: string;
  open(opts?: OpenOptions): Promise<Lethe>;
}

const quiet = { warn: () => undefined, info: () => undefined };

export function makeTransientProject(
  opts: { state?: string; extra?: Record<string, unknown>; datasets?: Record<string, unknown> } = {},
): TransientProject {
  const dir = tempDir("lethe-transient-");
  const data = join(dir, "data");
  const root = join(dir, "ws-root");
  mkdirSync(join(data, "uploads"), { recursive: true });
  writeFileSync(join(dir, "master.key"), "a".repeat(64));
  const config: Record<string, unknown> = {
    version: 1,
    state: opts.state ?? "./.lethe",
    stores: { files: { kind: "fs", root: "./data" } },
    datasets: opts.datasets ?? { uploads: { store: "files", include: ["uploads/**"], retention: "1h", events: true } },
    transient: { root: "./ws-root", ttl: "5m" },
    secrets: { masterKey: "file:./master.key" },
    ...opts.extra,
  };
  const configPath = join(dir, "lethe.yaml");
  writeFileSync(configPath, stringify(config));
  return { dir, data, root, config, configPath, open: (o = {}) => openLethe(configPath, { logger: quiet, ...o }) };
}

export { filesUnder } from "../helpers/files.js";

/** Directories named ws_* anywhere under `dir`. */
export function workspaceDirs(dir: string): string[] {
  const out: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const n of names) {
    const p = join(dir, n);
    if (!lstatSync(p, { throwIfNoEntry: false })?.isDirectory()) continue;
    if (n.startsWith("ws_")) out.push(p);
    else out.push(...workspaceDirs(p));
  }
  return out;
}

/** Byte scan: which of the files contain any of the needles. */
export function filesContaining(files: string[], needles: Buffer[]): string[] {
  return files.filter((f) => {
    const bytes = readFileSync(f);
    return needles.some((n) => bytes.includes(n));
  });
}

/**
 * Opens transient projects for a test file and closes every one after each
 * test (tolerating those a test already closed itself).
 */
export function useTransientProjects() {
  let open: Lethe[] = [];
  afterEach(async () => {
    for (const l of open) await l.close().catch(() => undefined);
    open = [];
  });
  const track = (lethe: Lethe) => {
    open.push(lethe);
    return lethe;
  };
  const start = async (opts: Parameters<typeof makeTransientProject>[0] = {}) => {
    const p = makeTransientProject(opts);
    return { p, lethe: track(await p.open()) };
  };
  return { start, track };
}

/** The encrypted files of a workspace. */
export function cipherFiles(ws: Workspace): string[] {
  return readdirSync(ws.dir)
    .filter((n) => n.startsWith("e-"))
    .map((n) => join(ws.dir, n));
}

/** The LetheError code a promise rejects with, or undefined when it resolves. */
export async function errCode(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
}
