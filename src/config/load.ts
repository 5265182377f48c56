import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { ConfigError } from "../core/errors.js";
import { normalizeConfig } from "./normalize.js";
import { checkRules } from "./rules.js";
import { configSchema, type RawConfig } from "./schema.js";
import type { LetheConfig } from "./types.js";

/** Where the config comes from: `--config`, then `LETHE_CONFIG`, then `./lethe.yaml`. */
export function findConfigFile(explicit?: string): string {
  const file = explicit ?? process.env.LETHE_CONFIG ?? "lethe.yaml";
  const abs = resolve(file);
  if (!existsSync(abs)) throw new ConfigError([`config: file not found: ${abs} (run "lethe init" to create one)`]);
  return abs;
}

export function issuePath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? "(root)" : path.map(String).join(".");
}

/**
 * zod schema then cross-field rules, with nothing resolved or opened: what
 * `lethe validate` checks. Throws one {@link ConfigError} listing every problem
 * with its key path.
 *
 * @example
 * const raw = checkConfig({ version: 1, stores: {}, datasets: {} });
 */
export function checkConfig(input: unknown, baseDir = process.cwd()): RawConfig {
  const r = configSchema.safeParse(input);
  if (!r.success) {
    throw new ConfigError(r.error.issues.map((i) => `${issuePath(i.path)}: ${i.message}`));
  }
  const issues = checkRules(r.data, baseDir);
  if (issues.length > 0) throw new ConfigError(issues);
  return r.data;
}

/**
 * parse (zod) → cross-field rules → normalize (secret references resolved).
 *
 * @example
 * const cfg = parseConfig({ version: 1, stores: {}, datasets: {} }, process.cwd());
 */
export function parseConfig(input: unknown, baseDir: string, file?: string): LetheConfig {
  return normalizeConfig(checkConfig(input, baseDir), file, baseDir);
}

/**
 * Reads a YAML config file into a plain document, unvalidated: for callers
 * that need one section only (scan-logs reads `redact:`).
 */
export function readConfigDocument(path?: string): { file: string; doc: Record<string, unknown> } {
  const file = findConfigFile(path);
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, "utf8"), { uniqueKeys: true });
  } catch (err) {
    throw new ConfigError([`config: ${file} is not valid YAML: ${(err as Error).message.split("\n")[0]}`]);
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc))
    throw new ConfigError(["(root): expected a mapping with version, stores, datasets"]);
  return { file, doc: doc as Record<string, unknown> };
}

/**
 * Reads and validates a YAML config file (default: `LETHE_CONFIG` or ./lethe.yaml); every problem is
 * reported at once in a {@link ConfigError}.
 *
 * @example
 * const lethe = await openLethe(loadConfigFile("/etc/lethe/lethe.yaml"));
 */
export function loadConfigFile(path?: string): LetheConfig {
  const { file, doc } = readConfigDocument(path);
  return parseConfig(doc, dirname(file), file);
}
