import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { type Lethe, type OpenOptions, openLethe } from "../../src/lethe.js";
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
    datasets: opts.datasets ?? { uploads: { store: "files", include: ["uploads/**"], retention: "1h" } },
    transient: { root: "./ws-root", ttl: "5m" },
    secrets: { masterKey: "file:./master.key" },
    ...opts.extra,
  };
  const configPath = join(dir, "lethe.yaml");
  writeFileSync(configPath, stringify(config));
  return { dir, data, root, config, configPath, open: (o = {}) => openLethe(configPath, { logger: quiet, ...o }) };
}

/** Every regular file under `dir`, recursively. */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const n of names) {
    const p = join(dir, n);
    const st = statSync(p, { throwIfNoEntry: false });
    if (st?.isDirectory()) out.push(...filesUnder(p));
    else if (st?.isFile()) out.push(p);
  }
  return out;
}

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
    if (!statSync(p, { throwIfNoEntry: false })?.isDirectory()) continue;
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
