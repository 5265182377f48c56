import { createHash, randomBytes } from "node:crypto";
import {
  chmodSync,
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { resolveSecret } from "../config/secrets.js";
import type { LetheConfig } from "../config/types.js";

/**
 * The master key wraps every other key lethe keeps (signing key, subject HMAC
 * key, per-subject data keys). It comes from `secrets.masterKey`; when absent
 * it is generated into the state folder with a warning, because a key stored
 * beside the data it protects protects nothing against a copy of that folder.
 */
export function loadMasterKey(config: LetheConfig, warn: (msg: string) => void): Buffer {
  if (config.secrets.masterKey) {
    const text = resolveSecret(config.secrets.masterKey, config.baseDir, "secrets.masterKey");
    return masterKeyFromText(text);
  }
  const file = generatedKeyFile(config);
  if (!existsSync(file)) {
    mkdirSync(config.state.dir, { recursive: true, mode: 0o700 });
    writeFileSync(file, randomBytes(32).toString("hex"), { mode: 0o600, flag: "wx" });
    warn(`generated a master key in ${file}; set secrets.masterKey (env:… or file:…) to keep it apart from the state`);
  }
  chmodSync(file, 0o600);
  return masterKeyFromText(readFileSync(file, "utf8").trim());
}

function generatedKeyFile(config: LetheConfig): string {
  return join(config.state.dir, "master.key");
}

/**
 * After a master-key rotation, puts the new key where lethe generated the old
 * one (`.lethe/master.key`) when no `secrets.masterKey` is configured: written
 * beside it, synced, then renamed over it, so the file holds one whole key or
 * the other. Returns the file, or undefined when the key is configured (the
 * operator changes that reference).
 *
 * @example
 * replaceGeneratedMasterKey(config, readFileSync("new.key", "utf8"));
 */
export function replaceGeneratedMasterKey(config: LetheConfig, text: string): string | undefined {
  if (config.secrets.masterKey) return undefined;
  const file = generatedKeyFile(config);
  const tmp = `${file}.new`;
  writeFileSync(tmp, text.trim(), { mode: 0o600 });
  const fd = openSync(tmp, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  const dir = openSync(config.state.dir, "r");
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
  return file;
}

/**
 * The key a secret's text stands for: 64 hex chars are used as is; any other
 * secret is stretched with SHA-256.
 *
 * @example
 * masterKeyFromText(readFileSync("new.key", "utf8").trim());
 */
export function masterKeyFromText(text: string): Buffer {
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, "hex");
  return createHash("sha256").update(`lethe-master-key\0${text}`).digest();
}
