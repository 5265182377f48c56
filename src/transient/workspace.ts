import { createHash, createHmac } from "node:crypto";
import { closeSync, fstatSync } from "node:fs";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { LetheError } from "../core/errors.js";
import { openDirAt } from "../safe-fs/anchor.js";
import { identityOf } from "../safe-fs/identity.js";
import { ensurePrivateDirAt } from "../safe-fs/private-dir.js";
import { shredIn } from "../safe-fs/remove.js";
import { DEFAULT_CHUNK, openAll, sealParts } from "./chunk-format.js";
import { FdFile } from "./fd-file.js";
import { withFile, writeParts } from "./file-io.js";
import { DecryptingReadStream, EncryptingWriteStream, type StreamTarget } from "./streams.js";
import { openWorkspace, type WorkspaceDir } from "./workspace-dir.js";

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

const code = (err: unknown): string => (err as { code?: string }).code ?? "EUNKNOWN";

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
    /** Where the directory is, for display and for {@link path}; files are never reached through this string. */
    readonly dir: string,
    /** The directory itself, open since it was created: every file operation goes through it. */
    private readonly home: WorkspaceDir,
    key: Buffer,
    readonly signal: AbortSignal,
    private readonly onPlaintext: PlaintextHook,
    private readonly chunkSize = DEFAULT_CHUNK,
    /** tmpfs/ramfs root: small whole-file I/O is done synchronously (memory copies, no thread-pool hops). */
    private readonly memoryBacked = false,
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

  /** The on-disk name of `name`'s ciphertext (a name inside the workspace directory, never a path). */
  private cipherName(name: string): string {
    checkName(name);
    const tag = createHmac("sha256", this.#nameKey).update(name).digest("hex").slice(0, 40);
    return `${CIPHER_PREFIX}${tag}`;
  }

  private target(name: string): StreamTarget {
    const file = this.cipherName(name);
    return {
      open: (flags) => new FdFile(this.home.openFile(file, flags, 0o600)),
      workspaceId: this.id,
      name,
      key: () => this.key(),
      chunkSize: this.chunkSize,
    };
  }

  /** Encrypts `data` into the workspace under `name` (replacing any earlier content). */
  async write(name: string, data: WorkspaceData): Promise<void> {
    const file = this.cipherName(name);
    const { buf, owned } = view(data);
    let parts: Buffer[];
    try {
      parts = sealParts(this.key(), this.id, name, buf, this.chunkSize);
    } finally {
      if (owned) buf.fill(0);
    }
    await writeParts((flags, mode) => this.home.openFile(file, flags, mode), parts, this.memoryBacked);
  }

  /** Decrypts and authenticates `name`; the Buffer is zeroed when the workspace closes. */
  async read(name: string): Promise<Buffer> {
    const file = this.cipherName(name);
    this.key();
    const plain = await withFile(
      (flags) => this.home.openFile(file, flags),
      this.memoryBacked,
      (image) => openAll(this.key(), this.id, name, image),
    );
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
   *
   * `plain/` is made through the workspace's own descriptor (a link or a
   * swapped directory above is never followed). A path is a string the tool
   * will follow, so it is handed out only after the whole path was walked
   * from the root without following a link and found to lead to this
   * workspace's `plain/`; a path swapped after that is the tool's to resolve.
   */
  async path(name: string): Promise<string> {
    checkName(name);
    this.key();
    if (!this.#plain.has(name)) {
      await this.onPlaintext(name);
      this.#plain.add(name);
    }
    await this.home
      .use((fd) => {
        const plain = ensurePrivateDirAt(fd, PLAIN_DIR, "the plain directory");
        const identity = identityOf(fstatSync(plain));
        closeSync(plain);
        // The string path must lead, link-free, to this very directory: reached again from the root by names.
        const ws = openWorkspace(this.home.ref);
        try {
          closeSync(openDirAt(ws, PLAIN_DIR, identity, "the plain directory"));
        } finally {
          closeSync(ws);
        }
      })
      .catch((err: unknown) => {
        throw new LetheError(
          "CONFLICT",
          `workspace ${this.id}: its plain directory is not a real directory of this workspace (${code(err)}: a link or a swapped path); no plain path handed out`,
        );
      });
    this.key();
    return join(this.dir, PLAIN_DIR, name);
  }

  /** Shreds one encrypted file now instead of at the end. */
  async delete(name: string): Promise<boolean> {
    const file = this.cipherName(name);
    this.key();
    // Through the workspace's own descriptor: a swapped namespace never leads the overwrite outside.
    const r = await this.home.use((fd) => shredIn(fd, file, { fill: "zero" }));
    if (r.ok) return !("missing" in r);
    if (r.code === "PATH_CHANGED" || r.code === "NOT_A_FILE")
      throw new LetheError("CONFLICT", `workspace ${this.id}: ${r.reason}; nothing deleted`);
    throw new LetheError(r.code === "REFUSED" ? "VALIDATION" : "INTERNAL", `workspace ${this.id}: ${r.reason}`);
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
   * Drops the key (zeroed), destroys open streams, lets go of the directory and zeroes the plaintext
   * buffers handed out by read(), except `keep` (the callback's result).
   * Internal: called by the workspace manager before the directory is shredded.
   */
  dispose(why: string, keep?: unknown): void {
    if (this.#closed !== undefined) return;
    this.#closed = why;
    for (const s of this.#streams) s.destroy(new LetheError("CONFLICT", `workspace ${this.id} closed (${why})`));
    this.#streams.clear();
    // Closed once the operations still in flight settle; the shred reaches the directory from the root again.
    this.home.close();
    this.#key.fill(0);
    this.#nameKey.fill(0);
    for (const ref of this.#reads) {
      const b = ref.deref();
      if (b && b !== keep) b.fill(0);
    }
    this.#reads.length = 0;
  }
}
