import { close, fstat, read, readFile, type Stats, write, writev } from "node:fs";
import { promisify } from "node:util";

const pWrite = promisify(write);
const pWritev = promisify(writev);
const pRead = promisify(read);
const pFstat = promisify(fstat);
const pClose = promisify(close);
const pReadFile = promisify(readFile);

/**
 * Asynchronous I/O on a descriptor lethe opened itself, with the part of the FileHandle interface workspaces
 * use. A workspace file is opened synchronously relative to the workspace directory's descriptor (one
 * syscall; Node has no openat, and an asynchronous open would have to keep that directory's descriptor
 * pinned while it waits in the thread pool); the reads and writes that can take long still run off the loop.
 *
 * @example
 * const f = new FdFile(openSync(at(dirFd, "e-…"), WRITE_FLAGS, 0o600));
 * try { await f.writev(parts); } finally { await f.close(); }
 */
export class FdFile {
  #fd: number;
  #pending = 0;
  #closing: Promise<void> | undefined;
  #closed: (() => void) | undefined;

  constructor(fd: number) {
    this.#fd = fd;
  }

  write(buf: Buffer, offset = 0, length = buf.length - offset, position?: number): Promise<{ bytesWritten: number }> {
    return this.op((fd) => pWrite(fd, buf, offset, length, position ?? null));
  }

  writev(bufs: Buffer[], position?: number): Promise<{ bytesWritten: number }> {
    return this.op((fd) => pWritev(fd, bufs, position));
  }

  read(buf: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }> {
    return this.op((fd) => pRead(fd, buf, offset, length, position));
  }

  stat(): Promise<Stats> {
    return this.op((fd) => pFstat(fd));
  }

  /** The whole file from the start (the descriptor must not have been read from yet). */
  readAll(): Promise<Buffer> {
    return this.op((fd) => pReadFile(fd));
  }

  /**
   * Closes once the operations in flight settle, like FileHandle: closing under a queued write would let the
   * number be reused by another open and the write land there. A second close waits for the first.
   */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((done) => {
      this.#closed = done;
      if (this.#pending === 0) this.release();
    });
    return this.#closing;
  }

  private async op<T>(fn: (fd: number) => Promise<T>): Promise<T> {
    if (this.#closing) throw Object.assign(new Error("file closed"), { code: "EBADF" });
    this.#pending++;
    try {
      return await fn(this.#fd);
    } finally {
      this.#pending--;
      if (this.#closing && this.#pending === 0) this.release();
    }
  }

  private release(): void {
    const fd = this.#fd;
    this.#fd = -1;
    const done = this.#closed ?? (() => undefined);
    if (fd < 0) done();
    else pClose(fd).then(done, done);
  }
}
