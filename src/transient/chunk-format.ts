import { createCipheriv, createDecipheriv, randomFillSync } from "node:crypto";
import { LetheError } from "../core/errors.js";

/**
 * The at-rest format of a workspace file: a header, then chunks each sealed
 * on its own with AES-256-GCM (96-bit random nonce, 16-byte tag). Every
 * chunk's AAD binds the header, the workspace, the file name, the chunk index
 * and a "final" flag, so reordered, swapped, truncated or extended files fail
 * to open instead of yielding wrong plaintext.
 *
 * File:   "LWS1" ‖ chunk size (u32 BE) ‖ record*
 * Record: nonce(12) ‖ ciphertext(≤ chunk size) ‖ tag(16); only the last record
 *         may be shorter, and only it is sealed with final = 1.
 *
 * @example
 * const image = sealAll(key, "ws_…", "input.bin", data);
 * openAll(key, "ws_…", "input.bin", image).equals(data); // true
 */
export const MAGIC = Buffer.from("LWS1");
export const HEADER_LEN = 8;
export const NONCE_LEN = 12;
export const TAG_LEN = 16;
export const RECORD_OVERHEAD = NONCE_LEN + TAG_LEN;
/** 1 MiB: large chunks amortise the per-seal setup (measured 2× faster than 64 KiB on 1 MiB inputs). */
export const DEFAULT_CHUNK = 1024 * 1024;

export function makeHeader(chunkSize: number): Buffer {
  const h = Buffer.alloc(HEADER_LEN);
  MAGIC.copy(h, 0);
  h.writeUInt32BE(chunkSize, 4);
  return h;
}

/** Parses and checks a header; returns the chunk size. */
export function readHeader(buf: Buffer): number {
  if (buf.length < HEADER_LEN || !buf.subarray(0, 4).equals(MAGIC))
    throw new LetheError("CRYPTO_ERROR", "not a lethe workspace file (bad header or truncated)");
  const chunk = buf.readUInt32BE(4);
  if (chunk < 1 || chunk > 64 * 1024 * 1024) throw new LetheError("CRYPTO_ERROR", "workspace file header is corrupt");
  return chunk;
}

/** AAD prefix shared by all chunks of one file: header ‖ workspace id ‖ name. */
export function aadPrefix(header: Buffer, workspaceId: string, name: string): Buffer {
  return Buffer.concat([header, Buffer.from(`lethe-ws/v1\0${workspaceId}\0${name}\0`, "utf8")]);
}

function chunkAad(prefix: Buffer, index: number, final: boolean): Buffer {
  const aad = Buffer.alloc(prefix.length + 9);
  prefix.copy(aad, 0);
  aad.writeBigUInt64BE(BigInt(index), prefix.length);
  aad[prefix.length + 8] = final ? 1 : 0;
  return aad;
}

/** Seals one chunk into `out` at `at`; returns the record length. */
export function sealChunkInto(
  key: Buffer,
  prefix: Buffer,
  index: number,
  final: boolean,
  plain: Buffer,
  out: Buffer,
  at: number,
): number {
  const nonce = out.subarray(at, at + NONCE_LEN);
  randomFillSync(nonce);
  const cipher = createCipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG_LEN });
  cipher.setAAD(chunkAad(prefix, index, final));
  const body = cipher.update(plain);
  body.copy(out, at + NONCE_LEN);
  cipher.final();
  cipher.getAuthTag().copy(out, at + NONCE_LEN + body.length);
  return NONCE_LEN + body.length + TAG_LEN;
}

/** Opens one record into `out` at `at`; returns the plaintext length. */
export function openChunkInto(
  key: Buffer,
  prefix: Buffer,
  index: number,
  final: boolean,
  record: Buffer,
  out: Buffer,
  at: number,
): number {
  if (record.length < RECORD_OVERHEAD) throw new LetheError("CRYPTO_ERROR", "workspace file is truncated");
  // A record whose plaintext cannot fit is a file whose length lies about its records (bytes appended or cut).
  if (record.length - RECORD_OVERHEAD > out.length - at)
    throw new LetheError("CRYPTO_ERROR", "workspace file is corrupt (its length does not match its records)");
  let plain: Buffer | undefined;
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, record.subarray(0, NONCE_LEN), { authTagLength: TAG_LEN });
    decipher.setAAD(chunkAad(prefix, index, final));
    decipher.setAuthTag(record.subarray(record.length - TAG_LEN));
    plain = decipher.update(record.subarray(NONCE_LEN, record.length - TAG_LEN));
    decipher.final();
    plain.copy(out, at);
    return plain.length;
  } catch (err) {
    if (plain) out.fill(0, at, at + plain.length);
    throw new LetheError(
      "CRYPTO_ERROR",
      "workspace file failed authentication (altered, truncated, reordered or moved)",
      undefined,
      { cause: err },
    );
  } finally {
    plain?.fill(0);
  }
}

/** Size of the sealed file for a plaintext of `n` bytes. */
export function sealedSize(n: number, chunk: number): number {
  const records = Math.max(1, Math.ceil(n / chunk));
  return HEADER_LEN + n + records * RECORD_OVERHEAD;
}

/**
 * Seals a whole buffer as the list of pieces of its file image (header, then
 * nonce, body, tag per chunk), ready for one writev: no image is assembled,
 * so no extra copy of the ciphertext is made.
 */
export function sealParts(
  key: Buffer,
  workspaceId: string,
  name: string,
  data: Buffer,
  chunk = DEFAULT_CHUNK,
): Buffer[] {
  const header = makeHeader(chunk);
  const prefix = aadPrefix(header, workspaceId, name);
  const parts: Buffer[] = [header];
  const records = Math.max(1, Math.ceil(data.length / chunk));
  for (let i = 0; i < records; i++) {
    const nonce = Buffer.allocUnsafe(NONCE_LEN);
    randomFillSync(nonce);
    const cipher = createCipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG_LEN });
    cipher.setAAD(chunkAad(prefix, i, i === records - 1));
    const body = cipher.update(data.subarray(i * chunk, Math.min(data.length, (i + 1) * chunk)));
    cipher.final();
    parts.push(nonce, body, cipher.getAuthTag());
  }
  return parts;
}

/** Seals a whole buffer into one file image. */
export function sealAll(key: Buffer, workspaceId: string, name: string, data: Buffer, chunk = DEFAULT_CHUNK): Buffer {
  return Buffer.concat(sealParts(key, workspaceId, name, data, chunk));
}

/** Opens a whole file image; the plaintext buffer is the caller's to zero. */
export function openAll(key: Buffer, workspaceId: string, name: string, file: Buffer): Buffer {
  const chunk = readHeader(file);
  const prefix = aadPrefix(file.subarray(0, HEADER_LEN), workspaceId, name);
  const body = file.length - HEADER_LEN;
  const recLen = chunk + RECORD_OVERHEAD;
  const records = Math.max(1, Math.ceil(body / recLen));
  const plainLen = body - records * RECORD_OVERHEAD;
  if (plainLen < 0) throw new LetheError("CRYPTO_ERROR", "workspace file is truncated");
  // Every record, the final one included, holds at least a nonce and a tag: 1-27 bytes past
  // a full record are no record at all (and would make the plaintext shorter than the full ones).
  if (body - (records - 1) * recLen < RECORD_OVERHEAD)
    throw new LetheError("CRYPTO_ERROR", "workspace file is truncated or has bytes appended");
  if (records === 1) return openSingle(key, prefix, file.subarray(HEADER_LEN));
  const out = Buffer.alloc(plainLen);
  let at = 0;
  try {
    for (let i = 0; i < records; i++) {
      const start = HEADER_LEN + i * recLen;
      const record = file.subarray(start, Math.min(file.length, start + recLen));
      at += openChunkInto(key, prefix, i, i === records - 1, record, out, at);
    }
  } catch (err) {
    out.fill(0);
    throw err;
  }
  return out;
}

/** One-chunk files (the common case): the decipher's output is the plaintext, no copy. */
function openSingle(key: Buffer, prefix: Buffer, record: Buffer): Buffer {
  if (record.length < RECORD_OVERHEAD) throw new LetheError("CRYPTO_ERROR", "workspace file is truncated");
  let plain: Buffer | undefined;
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, record.subarray(0, NONCE_LEN), { authTagLength: TAG_LEN });
    decipher.setAAD(chunkAad(prefix, 0, true));
    decipher.setAuthTag(record.subarray(record.length - TAG_LEN));
    plain = decipher.update(record.subarray(NONCE_LEN, record.length - TAG_LEN));
    decipher.final();
    return plain;
  } catch (err) {
    plain?.fill(0);
    throw new LetheError(
      "CRYPTO_ERROR",
      "workspace file failed authentication (altered, truncated, reordered or moved)",
      undefined,
      { cause: err },
    );
  }
}
