import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { ConfigError } from "../core/errors.js";
import { checkConfig, readConfigDocument } from "./load.js";
import { s3Endpoint } from "./normalize.js";
import type { RawConfig } from "./schema.js";
import { isSecretRef } from "./secrets.js";

export interface ValidateReport {
  file: string;
  stores: number;
  datasets: number;
  /** References that name an unset variable or a missing file: fine in CI, fatal where lethe runs. */
  warnings: string[];
}

/** Every key that may hold an `env:`/`file:` reference, with its key path. */
function references(raw: RawConfig): [string, string][] {
  const refs: [string, string][] = [["state", raw.state]];
  for (const [name, s] of Object.entries(raw.stores))
    if (s.kind === "sql" || s.kind === "redis") refs.push([`stores.${name}.url`, s.url]);
    else if (s.kind === "s3" && s.endpoint) refs.push([`stores.${name}.endpoint`, s.endpoint]);
  if (raw.secrets?.masterKey) refs.push(["secrets.masterKey", raw.secrets.masterKey]);
  if (raw.secrets?.subjectKey) refs.push(["secrets.subjectKey", raw.secrets.subjectKey]);
  for (const [i, w] of (raw.notifications?.webhooks ?? []).entries())
    refs.push([`notifications.webhooks.${i}.secret`, w.secret]);
  return refs.filter(([, v]) => isSecretRef(v));
}

/**
 * `lethe validate`: schema and cross-field rules only. Nothing is opened,
 * contacted, created or written: no store, no state folder, no master key.
 * References are checked for presence (variable set, file exists) without
 * reading a secret, and reported as warnings. Throws ConfigError (exit 2).
 *
 * @example
 * const r = validateConfigFile("lethe.yaml"); // { file, stores: 2, datasets: 3, warnings: [] }
 */
export function validateConfigFile(path?: string): ValidateReport {
  const { file, doc } = readConfigDocument(path);
  const raw = checkConfig(doc);
  const baseDir = dirname(file);
  const warnings: string[] = [];
  for (const [at, ref] of references(raw)) {
    if (ref.startsWith("env:")) {
      const v = process.env[ref.slice(4)];
      if (v === undefined || v === "") warnings.push(`${at}: ${ref} is not set in this environment`);
    } else if (!existsSync(resolve(baseDir, ref.slice(5)))) {
      warnings.push(`${at}: ${ref} does not exist here`);
    }
  }
  // An endpoint is no secret: a reference that is present is resolved and checked as opening the store would.
  const errors: string[] = [];
  for (const [name, s] of Object.entries(raw.stores)) {
    if (s.kind !== "s3" || !s.endpoint || !isSecretRef(s.endpoint)) continue;
    const at = `stores.${name}.endpoint`;
    if (warnings.some((w) => w.startsWith(`${at}:`))) continue;
    try {
      s3Endpoint(s.endpoint, baseDir, at);
    } catch (err) {
      errors.push(...(err instanceof ConfigError ? err.issues : [String(err)]));
    }
  }
  if (errors.length > 0) throw new ConfigError(errors);
  return { file, stores: Object.keys(raw.stores).length, datasets: Object.keys(raw.datasets).length, warnings };
}
