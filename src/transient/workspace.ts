import { createHash, createHmac } from "node:crypto";
import { closeSync } from "node:fs";
import { lstat, mkdir } from "node:fs/promises";
import { basename, join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { LetheError } from "../core/errors.js";
import { shredFileAsync } from "../crypto/shred.js";
import { at, PathChangedError } from "../safe-fs/anchor.js";
import { DEFAULT_CHUNK, openAll, sealParts } from "./chunk-format.js";
import { ioError, withFile, writeParts } from "./file-io.js";
import { DecryptingReadStream, EncryptingWriteStream, type StreamTarget } from "./streams.js";
import { openWorkspace, sameDir, type WorkspaceRef } from "./workspace-dir.js";

/** Encrypted files are stored under a keyed hash of their name, so leftovers reveal no names. */
export const CIPHER_PREFIX = "e-";
export const PLAIN_DIR = "plain";

export type WorkspaceData = Buffer | Uint8Array | string;

/** Called the first time a plain path is handed out for a name (ledger + lease flag). */
export type PlaintextHook = (name: string) => Promise<void>;

function checkName(name: string): void {
  if (
    typeof name !== "string" ||
    name.length === 0 ||
    Buffer.byteLength(name) > 255 ||
    /[/\\\0]/.test(name) ||
    name === "." ||
    name === ".."
  )
    throw new LetheError(
      "VALIDATION",
      "a workspace file name is 1-255 bytes without '/', '\\' or NUL, and not '.' or '..'",
    );
}

function view(data: WorkspaceData): { buf: Buffer; owned: boolean } {
  if (typeof data === "string") return { buf: Buffer.from(data, "utf8"), owned: true };
  if (Buffer.isBuffer(data)) return { buf: data, owned: false };
  return { buf: Buffer.from(data.buffer, data.byteOffset, data.byteLength), owned: false };
}

/**
 * One request's private directory. Files are encrypted with a key that
 * exists only in this object; it is zeroed when the workspace closes, after
 * which every method throws.
 *
 * Buffers returned by {@link read} belong to the workspace: they are zeroed
 * when it closes (except the value the callback returns). Copy what must
 * outlive the request.
 *
 * @example
 * await lethe.transient(reqId, async (ws) => {
 *   await ws.write("history.json", bytes);
 *   return score(await ws.read("history.json"));
 * });
 */
export class Workspace {
  readonly #key: Buffer;
  readonly #nameKey: Buffer;
  #closed: string | undefined;
  readonly #reads: WeakRef<Buffer>[] = [];
  readonly #streams = new Set<Readable | Writable>();
  readonly #plain = new Set<string>();
  /** A non-secret fingerprint of the workspace key (SHA-256 prefix), to show keys are never shared. */
  readonly keyId: string;

  constructor(
    readonly id: string,
    readonly dir: string,
    key: Buffer,
    readonly signal: AbortSignal,
    private readonly onPlaintext: PlaintextHook,
    private readonly chunkSize = DEFAULT_CHUNK,
    /** tmpfs/ramfs root: small whole-file I/O is done synchronously (memory copies, no thread-pool hops). */
    private readonly memoryBacked = false,
    /** How the directory is reached from the root, and what it was when created (a swap is refused). */
    private readonly ref?: WorkspaceRef,
  ) {
    this.#key = key;
    this.#nameKey = createHmac("sha256", key).update("lethe-ws-names/v1").digest();
    this.keyId = createHash("sha256").update("lethe-ws-keyid/v1\0").update(key).digest("hex").slice(0, 32);
  }

  /** The key, or a throw once the workspace is closed (checked synchronously right before use). */
  private key(): Buffer {
    if (this.#closed !== undefined)
      throw new LetheError("CONFLICT", `workspace ${this.id} is closed (${this.#closed}); its key is gone`);
    return this.#key;
  }

  private cipherPath(name: string): string {
    checkName(name);
    const tag = createHmac("sha256", this.#nameKey).update(name).digest("hex").slice(0, 40);
    return join(this.dir, `${CIPHER_PREFIX}${tag}`);
  }

  private target(name: string): StreamTarget {
    return {
      path: this.cipherPath(name),
      workspaceId: this.id,
      name,
      key: () => this.key(),
      chunkSize: this.chunkSize,
    };
  }

  /** Encrypts `data` into the workspace under `name` (replacing any earlier content). */
  async write(name: string, data: WorkspaceData): Promise<void> {
    const path = this.cipherPath(name);
    const { buf, owned } = view(data);
    let parts: Buffer[];
    try {
      parts = sealParts(this.key(), this.id, name, buf, this.chunkSize);
    } finally {
      if (owned) buf.fill(0);
    }
    await writeParts(path, parts, this.memoryBacked);
  }

  /** Decrypts and authenticates `name`; the Buffer is zeroed when the workspace closes. */
  async read(name: string): Promise<Buffer> {
    const path = this.cipherPath(name);
    this.key();
    const plain = await withFile(path, this.memoryBacked, (image) => openAll(this.key(), this.id, name, image));
    this.#reads.push(new WeakRef(plain));
    return plain;
  }

  /** Streaming encryption for large inputs (each chunk sealed on its own). */
  createWriteStream(name: string): Writable {
    const s = new EncryptingWriteStream(this.target(name));
    this.key();
    return this.track(s);
  }

  /** Streaming decryption; a truncated, reordered or altered file errors the stream. */
  createReadStream(name: string): Readable {
    const s = new DecryptingReadStream(this.target(name));
    this.key();
    return this.track(s);
  }

  /**
   * A plain, unencrypted path inside the workspace for tools that need one.
   * Recorded on the ledger (`workspace_plaintext`) and on the lease before it
   * is returned; the file is shredded with the workspace like every other.
   */
  async path(name: string): Promise<string> {
    checkName(name);
    this.key();
    const dir = join(this.dir, PLAIN_DIR);
    if (!this.#plain.has(name)) {
      await this.onPlaintext(name);
      this.#plain.add(name);
    }
    // mkdir's mode can only be narrowed by the umask, never widened: 0700 or stricter.
    await mkdir(dir, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "EEXIST") throw ioError(err);
    });
    await this.checkPlainDir(dir);
    this.key();
    return join(dir, name);
  }

  /**
   * A path handed out must stay inside the workspace: `dir` must still resolve to the directory created for it
   * (no ancestor swapped), and `plain` must be a real directory of this user (lstat: a planted link is refused).
   */
  private async checkPlainDir(dir: string): Promise<void> {
    const uid = process.getuid?.();
    const identity = this.ref?.wsIdentity;
    const [ws, plain] = await Promise.all([
      identity ? lstat(this.dir).catch(() => undefined) : undefined,
      lstat(dir).catch(() => undefined),
    ]);
    const wsOk = !identity || (ws?.isDirectory() === true && sameDir(ws, identity));
    const plainOk =
      plain?.isDirectory() === true && (uid === undefined || plain.uid === uid) && (!ws || plain.dev === ws.dev);
    if (!wsOk || !plainOk)
      throw new LetheError(
        "CONFLICT",
        `workspace ${this.id}: its plain directory is not a real directory of this workspace (a link or a swapped path); no plain path handed out`,
      );
  }

  /** Shreds one encrypted file now instead of at the end. */
  async delete(name: string): Promise<boolean> {
    const file = basename(this.cipherPath(name));
    this.key();
    let fd: number | undefined;
    try {
      // Reached from the root without following a link: a swapped namespace never leads the overwrite outside.
      fd = this.ref ? openWorkspace(this.ref) : undefined;
      await shredFileAsync(fd === undefined ? join(this.dir, file) : at(fd, file), { fill: "zero" });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
      if (err instanceof PathChangedError)
        throw new LetheError("CONFLICT", `workspace ${this.id}: ${err.message}; nothing deleted`);
      throw ioError(err);
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  /** Whether plain paths were handed out. */
  get plaintext(): boolean {
    return this.#plain.size > 0;
  }

  get closed(): boolean {
    return this.#closed !== undefined;
  }

  private track<S extends Readable | Writable>(s: S): S {
    this.#streams.add(s);
    s.once("close", () => this.#streams.delete(s));
    return s;
  }

  /**
   * Drops the key (zeroed), destroys open streams and zeroes the plaintext
   * buffers handed out by read(), except `keep` (the callback's result).
   * Internal: called by the workspace manager before the directory is shredded.
   */
  dispose(why: string, keep?: unknown): void {
    if (this.#closed !== undefined) return;
    this.#closed = why;
    for (const s of this.#streams) s.destroy(new LetheError("CONFLICT", `workspace ${this.id} closed (${why})`));
    this.#streams.clear();
    this.#key.fill(0);
    this.#nameKey.fill(0);
    for (const ref of this.#reads) {
      const b = ref.deref();
      if (b && b !== keep) b.fill(0);
    }
    this.#reads.length = 0;
  }
}
