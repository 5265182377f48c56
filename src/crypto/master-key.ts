import { createHash, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
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
    return deriveKey(text);
  }
  const file = join(config.state.dir, "master.key");
  if (!existsSync(file)) {
    mkdirSync(config.state.dir, { recursive: true, mode: 0o700 });
    writeFileSync(file, randomBytes(32).toString("hex"), { mode: 0o600, flag: "wx" });
    warn(`generated a master key in ${file}; set secrets.masterKey (env:… or file:…) to keep it apart from the state`);
  }
  chmodSync(file, 0o600);
  return deriveKey(readFileSync(file, "utf8").trim());
}

/** 64 hex chars are used as is; any other secret is stretched with SHA-256. */
function deriveKey(text: string): Buffer {
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, "hex");
  return createHash("sha256").update(`lethe-master-key\0${text}`).digest();
}
