import { Readable, Writable } from "node:stream";
import { LetheError } from "../core/errors.js";
import {
  aadPrefix,
  HEADER_LEN,
  makeHeader,
  openChunkInto,
  RECORD_OVERHEAD,
  readHeader,
  sealChunkInto,
} from "./chunk-format.js";
import type { FdFile } from "./fd-file.js";
import { ioError, READ_FLAGS, WRITE_FLAGS } from "./file-io.js";

/** What a stream needs from its workspace: the key (throws once closed) and the file's identity. */
export interface StreamTarget {
  /** Opens the file through the workspace's own directory (never a path string that could lead elsewhere). */
  open(flags: number): FdFile;
  workspaceId: string;
  name: string;
  key(): Buffer;
  chunkSize: number;
}

/**
 * Encrypts a large input chunk by chunk as it arrives. A chunk is sealed only
 * once the next byte arrives (or the stream ends), so the last chunk, and only
 * it, carries the final flag. The staging buffer is lethe's and is zeroed.
 *
 * @example
 * await pipeline(req, ws.createWriteStream("upload.bin"));
 */
export class EncryptingWriteStream extends Writable {
  private fh: FdFile | undefined;
  private readonly staging: Buffer;
  private fill = 0;
  private index = 0;
  private readonly prefix: Buffer;
  private readonly header: Buffer;

  constructor(private readonly target: StreamTarget) {
    super({ highWaterMark: target.chunkSize });
    this.staging = Buffer.alloc(target.chunkSize);
    this.header = makeHeader(target.chunkSize);
    this.prefix = aadPrefix(this.header, target.workspaceId, target.name);
  }

  override _construct(callback: (err?: Error | null) => void): void {
    Promise.resolve()
      .then(() => this.target.open(WRITE_FLAGS))
      .then(async (fh) => {
        this.fh = fh;
        await fh.write(this.header);
        callback();
      })
      .catch((err: Error) => callback(ioError(err) as Error));
  }

  override _write(data: Buffer, _enc: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.absorb(data).then(() => callback(), callback);
  }

  private async absorb(data: Buffer): Promise<void> {
    const records: Buffer[] = [];
    let off = 0;
    while (off < data.length) {
      if (this.fill === this.staging.length) records.push(this.seal(false));
      const n = Math.min(data.length - off, this.staging.length - this.fill);
      data.copy(this.staging, this.fill, off, off + n);
      this.fill += n;
      off += n;
    }
    if (records.length > 0) await this.writeAll(records);
  }

  private seal(final: boolean): Buffer {
    const out = Buffer.allocUnsafeSlow(this.fill + RECORD_OVERHEAD);
    sealChunkInto(this.target.key(), this.prefix, this.index++, final, this.staging.subarray(0, this.fill), out, 0);
    this.staging.fill(0, 0, this.fill);
    this.fill = 0;
    return out;
  }

  private async writeAll(records: Buffer[]): Promise<void> {
    if (!this.fh) throw new LetheError("INTERNAL", "write stream used before it was opened");
    await this.fh.writev(records);
  }

  override _final(callback: (err?: Error | null) => void): void {
    Promise.resolve()
      .then(() => this.writeAll([this.seal(true)]))
      .then(() => this.fh?.close())
      .then(() => {
        this.fh = undefined;
        callback();
      }, callback);
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.staging.fill(0);
    const fh = this.fh;
    this.fh = undefined;
    (fh ? fh.close() : Promise.resolve()).then(
      () => callback(err),
      () => callback(err),
    );
  }
}

/**
 * Decrypts a workspace file chunk by chunk. Each chunk is authenticated
 * before it is pushed; a truncated, reordered or altered file errors the
 * stream. The pushed chunks belong to the consumer.
 *
 * @example
 * for await (const chunk of ws.createReadStream("upload.bin")) hash.update(chunk);
 */
export class DecryptingReadStream extends Readable {
  private fh: FdFile | undefined;
  private prefix: Buffer = Buffer.alloc(0);
  private recLen = 0;
  private records = 0;
  private index = 0;
  private size = 0;

  constructor(private readonly target: StreamTarget) {
    super({ highWaterMark: target.chunkSize });
  }

  override _construct(callback: (err?: Error | null) => void): void {
    (async () => {
      const fh = this.target.open(READ_FLAGS);
      this.fh = fh;
      this.size = (await fh.stat()).size;
      const header = Buffer.alloc(HEADER_LEN);
      await fh.read(header, 0, HEADER_LEN, 0);
      const chunk = readHeader(header);
      this.prefix = aadPrefix(header, this.target.workspaceId, this.target.name);
      this.recLen = chunk + RECORD_OVERHEAD;
      this.records = Math.max(1, Math.ceil((this.size - HEADER_LEN) / this.recLen));
    })().then(
      () => callback(),
      (err: Error) => callback(ioError(err) as Error),
    );
  }

  override _read(): void {
    this.next().then(
      (chunk) => this.push(chunk),
      (err: Error) => this.destroy(err),
    );
  }

  /** The next non-empty authenticated chunk, or null after the final one. */
  private async next(): Promise<Buffer | null> {
    for (;;) {
      if (this.index >= this.records) return null;
      const out = await this.decryptNext();
      if (out.length > 0) return out;
    }
  }

  private async decryptNext(): Promise<Buffer> {
    const fh = this.fh;
    if (!fh) throw new LetheError("INTERNAL", "read stream used before it was opened");
    const start = HEADER_LEN + this.index * this.recLen;
    const len = Math.min(this.recLen, this.size - start);
    if (len < RECORD_OVERHEAD) throw new LetheError("CRYPTO_ERROR", "workspace file is truncated");
    const record = Buffer.allocUnsafeSlow(len);
    const { bytesRead } = await fh.read(record, 0, len, start);
    if (bytesRead !== len) throw new LetheError("CRYPTO_ERROR", "workspace file changed while it was read");
    const out = Buffer.allocUnsafeSlow(len - RECORD_OVERHEAD);
    const final = this.index === this.records - 1;
    openChunkInto(this.target.key(), this.prefix, this.index++, final, record, out, 0);
    return out;
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    const fh = this.fh;
    this.fh = undefined;
    (fh ? fh.close() : Promise.resolve()).then(
      () => callback(err),
      () => callback(err),
    );
  }
}
