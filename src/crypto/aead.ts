import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { LetheError } from "../core/errors.js";

/**
 * AES-256-GCM with a 96-bit random nonce and a 16-byte tag, always passing
 * `authTagLength` so a truncated tag can never be accepted.
 * Layout: version(1) ‖ nonce(12) ‖ tag(16) ‖ ciphertext.
 *
 * @example
 * const box = seal(key, Buffer.from("hi"), Buffer.from("aad"));
 * open(key, box, Buffer.from("aad")); // <Buffer 68 69>
 */
const VERSION = 1;
const NONCE = 12;
const TAG = 16;
export const AEAD_OVERHEAD = 1 + NONCE + TAG;

export function seal(key: Buffer, plaintext: Buffer, aad?: Buffer): Buffer {
  if (key.length !== 32) throw new LetheError("CRYPTO_ERROR", "AES-256-GCM needs a 32-byte key");
  const nonce = randomBytes(NONCE);
  const cipher = createCipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG });
  if (aad) cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.from([VERSION]), nonce, cipher.getAuthTag(), body]);
}

export function open(key: Buffer, box: Buffer, aad?: Buffer): Buffer {
  if (box.length < AEAD_OVERHEAD || box[0] !== VERSION) {
    throw new LetheError("CRYPTO_ERROR", "ciphertext is truncated or of an unknown version");
  }
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, box.subarray(1, 1 + NONCE), { authTagLength: TAG });
    decipher.setAuthTag(box.subarray(1 + NONCE, AEAD_OVERHEAD));
    if (aad) decipher.setAAD(aad);
    return Buffer.concat([decipher.update(box.subarray(AEAD_OVERHEAD)), decipher.final()]);
  } catch (err) {
    throw new LetheError(
      "CRYPTO_ERROR",
      "decryption failed: wrong key, or the data or its context was altered",
      undefined,
      {
        cause: err,
      },
    );
  }
}
