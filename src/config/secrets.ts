import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { LetheError } from "../core/errors.js";

/**
 * Secrets are references, never inline values: `env:NAME` or `file:PATH`.
 * Keeping them out of the YAML keeps them out of version control and out of
 * any copy of the config that lands in a ticket.
 *
 * @example
 * resolveSecret("env:LETHE_MASTER_KEY", process.cwd());
 */
export const SECRET_REF_RE = /^(env:[A-Za-z_][A-Za-z0-9_]*|file:.+)$/;

export function resolveSecret(ref: string, baseDir: string, keyPath?: string): string {
  const at = keyPath ? `${keyPath}: ` : "";
  if (ref.startsWith("env:")) {
    const name = ref.slice(4);
    const value = process.env[name];
    if (value === undefined || value === "") {
      throw new LetheError("CONFIG_INVALID", `${at}secret ${ref}: environment variable ${name} is not set`);
    }
    return value;
  }
  if (ref.startsWith("file:")) {
    const path = resolve(baseDir, ref.slice(5));
    try {
      return readFileSync(path, "utf8").trim();
    } catch (err) {
      throw new LetheError("CONFIG_INVALID", `${at}secret ${ref}: cannot read ${path}`, undefined, { cause: err });
    }
  }
  throw new LetheError("CONFIG_INVALID", `${at}a secret must be env:NAME or file:PATH, got an inline value`);
}

/** True for `env:NAME` / `file:PATH`: a value that names a secret instead of holding it. */
export function isSecretRef(value: string): boolean {
  return value.startsWith("env:") || value.startsWith("file:");
}

/**
 * Keys that take either a plain value or a reference (`state:`, a store's
 * `url:`): a reference is resolved, anything else is returned as written.
 *
 * @example
 * resolveMaybeSecret("env:LETHE_STATE", process.cwd(), "state"); // e.g. "postgres://…"
 */
export function resolveMaybeSecret(value: string, baseDir: string, keyPath: string): string {
  return isSecretRef(value) ? resolveSecret(value, baseDir, keyPath) : value;
}
