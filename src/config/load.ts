import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { ConfigError } from "../core/errors.js";
import { normalizeConfig } from "./normalize.js";
import { checkRules } from "./rules.js";
import { configSchema } from "./schema.js";
import type { LetheConfig } from "./types.js";

/** Where the config comes from: `--config`, then `LETHE_CONFIG`, then `./lethe.yaml`. */
export function findConfigFile(explicit?: string): string {
  const file = explicit ?? process.env.LETHE_CONFIG ?? "lethe.yaml";
  const abs = resolve(file);
  if (!existsSync(abs)) throw new ConfigError([`config: file not found: ${abs} (run "lethe init" to create one)`]);
  return abs;
}

function issuePath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? "(root)" : path.map(String).join(".");
}

/**
 * parse (zod) → normalize → cross-field rules. Throws one {@link ConfigError}
 * listing every problem with its key path.
 *
 * @example
 * const cfg = parseConfig({ version: 1, stores: {}, datasets: {} }, process.cwd());
 */
export function parseConfig(input: unknown, baseDir: string, file?: string): LetheConfig {
  const r = configSchema.safeParse(input);
  if (!r.success) {
    throw new ConfigError(r.error.issues.map((i) => `${issuePath(i.path)}: ${i.message}`));
  }
  const issues = checkRules(r.data);
  if (issues.length > 0) throw new ConfigError(issues);
  return normalizeConfig(r.data, file, baseDir);
}

/** Reads and validates a YAML config file. */
export function loadConfigFile(path?: string): LetheConfig {
  const file = findConfigFile(path);
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, "utf8"), { uniqueKeys: true });
  } catch (err) {
    throw new ConfigError([`config: ${file} is not valid YAML: ${(err as Error).message.split("\n")[0]}`]);
  }
  if (doc === null || typeof doc !== "object")
    throw new ConfigError(["(root): expected a mapping with version, stores, datasets"]);
  return parseConfig(doc, dirname(file), file);
}
