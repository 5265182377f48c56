import { randomBytes } from "node:crypto";
import { constants, createWriteStream, type ReadStream } from "node:fs";
import { type FileHandle, open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGunzip, createGzip } from "node:zlib";
import { replaceAndShred, type Snapshot, syncDir } from "./atomic-replace.js";
import { walkLogFiles } from "./file-walk.js";
import { lineBatches } from "./line-batches.js";
import { maskExcerpt } from "./mask.js";
import { createTextScanner, type TextScanner } from "./text-scanner.js";
import type { ScannerOptions } from "./types.js";

export interface ScanLogsOptions extends ScannerOptions {
  /** Write `<name>.redacted` (or `.redacted.gz`) beside each file with findings. */
  redact?: boolean;
  /** Replace each file with findings by its redacted version and shred the old bytes. */
  inPlace?: boolean;
  /** Findings kept in the result (default 10 000); `counts` always covers all. */
  maxFindings?: number;
}

/** One finding; `excerpt` is masked and never holds the raw value. */
export interface LogFinding {
  file: string;
  line: number;
  type: string;
  excerpt: string;
}

export interface ScannedFile {
  file: string;
  findings: number;
  /** Bytes scanned (decompressed for `.gz`). */
  bytes: number;
  /** The redacted copy written (with `redact`), or the file itself (with `inPlace`). */
  output?: string;
  skipped?: string;
  error?: string;
}

export interface ScanLogsResult {
  findings: LogFinding[];
  counts: Record<string, number>;
  files: ScannedFile[];
  /** More findings existed than `maxFindings`. */
  truncated: boolean;
  bytes: number;
}

interface Run {
  scanner: TextScanner;
  findings: LogFinding[];
  counts: Record<string, number>;
  maxFindings: number;
}

/**
 * Scans log files (plain or gzip, JSON lines or free text; directories
 * recursively, symlinks never followed) for personal data, streaming files
 * of any size. With `redact` it writes a redacted copy beside each file that
 * had findings; with `inPlace` it swaps the redacted version in atomically
 * and overwrites the old bytes. A file that cannot be read is reported in
 * `files[].error` and the scan goes on.
 *
 * @example
 * const { counts, findings } = await scanLogs(["/var/log/app"], { redact: true });
 * // counts: { email: 3, card: 1 }; findings[0]: { file, line: 12, type: "email", excerpt: "j***@e***.com" }
 */
export async function scanLogs(paths: string | readonly string[], opts: ScanLogsOptions = {}): Promise<ScanLogsResult> {
  const run: Run = {
    scanner: createTextScanner(opts),
    findings: [],
    counts: {},
    maxFindings: opts.maxFindings ?? 10_000,
  };
  const files: ScannedFile[] = [];
  let total = 0;
  for await (const entry of walkLogFiles(typeof paths === "string" ? [paths] : paths)) {
    if (entry.skipped !== undefined) {
      files.push({ file: entry.path, findings: 0, bytes: 0, skipped: entry.skipped });
      continue;
    }
    if (entry.error !== undefined) {
      files.push({ file: entry.path, findings: 0, bytes: 0, error: entry.error });
      continue;
    }
    const snapshot = { dev: entry.stat.dev, ino: entry.stat.ino, size: entry.stat.size, mtimeMs: entry.stat.mtimeMs };
    const result = await scanFile(entry.path, snapshot, entry.stat.mode, run, opts);
    total += result.bytes;
    files.push(result);
  }
  const found = Object.values(run.counts).reduce((a, b) => a + b, 0);
  return { findings: run.findings, counts: run.counts, files, truncated: found > run.findings.length, bytes: total };
}

async function scanFile(
  file: string,
  before: Snapshot,
  mode: number,
  run: Run,
  opts: ScanLogsOptions,
): Promise<ScannedFile> {
  const out: ScannedFile = { file, findings: 0, bytes: 0 };
  const write = opts.redact === true || opts.inPlace === true;
  const tmp = write ? join(dirname(file), `.${basename(file)}.lethe-${randomBytes(6).toString("hex")}.tmp`) : "";
  let fh: FileHandle | undefined;
  let source: ReadStream | undefined;
  try {
    // O_NOFOLLOW: the walk saw a regular file; a symlink swapped in since must not be read.
    fh = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
    const gz = await isGzip(fh);
    source = fh.createReadStream({ start: 0, highWaterMark: 1 << 20 });
    const input = gz ? source.pipe(createGunzip()) : source;
    source.once("error", (err) => input.destroy(err));
    const batches = scanBatches(lineBatches(input), file, run, out, write);
    if (write) {
      const sink = createWriteStream(tmp, { flags: "wx", mode: mode & 0o7777 });
      await (gz ? pipeline(batches, createGzip(), sink) : pipeline(batches, sink));
      await fsyncFile(tmp);
    } else {
      for await (const _ of batches);
    }
    if (write && out.findings > 0) {
      if (opts.inPlace) {
        await replaceAndShred(file, tmp, before);
        out.output = file;
      } else {
        out.output = redactedName(file, gz);
        await rename(tmp, out.output);
        await syncDir(dirname(file));
      }
    }
  } catch (err) {
    if (err instanceof BinaryFile) out.skipped = "binary file";
    else out.error = (err as Error).message;
  } finally {
    if (source) source.destroy();
    else await fh?.close();
    if (write) await rm(tmp, { force: true });
  }
  return out;
}

/**
 * Scans each batch, records findings with line numbers, and (when `emit`)
 * yields the bytes to write: the batch itself when clean (no re-encoding),
 * otherwise the redacted text. Latin-1 maps bytes 1:1 to code units, so offsets are
 * byte offsets and non-ASCII bytes round-trip untouched.
 */
async function* scanBatches(
  batches: AsyncIterable<Buffer>,
  file: string,
  run: Run,
  out: ScannedFile,
  emit: boolean,
): AsyncGenerator<Buffer> {
  let line = 1;
  let sniffed = false;
  for await (const batch of batches) {
    if (!sniffed) sniffed = sniff(file, batch, out.bytes === 0);
    out.bytes += batch.length;
    const text = batch.toString("latin1");
    const spans = run.scanner.scan(text);
    let pos = 0;
    for (const s of spans) {
      for (let nl = text.indexOf("\n", pos); nl !== -1 && nl < s.start; nl = text.indexOf("\n", pos)) {
        line++;
        pos = nl + 1;
      }
      out.findings++;
      run.counts[s.type] = (run.counts[s.type] ?? 0) + 1;
      if (run.findings.length < run.maxFindings) {
        run.findings.push({ file, line, type: s.type, excerpt: maskExcerpt(s.type, text.slice(s.start, s.end)) });
      }
    }
    for (let nl = text.indexOf("\n", pos); nl !== -1; nl = text.indexOf("\n", nl + 1)) line++;
    if (emit) yield spans.length === 0 ? batch : Buffer.from(run.scanner.apply(text, spans), "latin1");
  }
}

/**
 * Where scan-logs writes a redacted copy of a file.
 *
 * @example
 * redactedName("app.log", false); // "app.log.redacted"
 * redactedName("app.log.gz", true); // "app.log.redacted.gz"
 */
export function redactedName(file: string, gz: boolean): string {
  if (!gz) return `${file}.redacted`;
  return file.endsWith(".gz") ? `${file.slice(0, -3)}.redacted.gz` : `${file}.redacted.gz`;
}

class BinaryFile extends Error {}

/** Names of log files, rotated or not: `app.log`, `app.log.1`, `err.txt`, `x.jsonl.2.gz`, `syslog`, `messages`. */
const LOG_NAME =
  /(?:\.(?:log|txt|out|err|json|jsonl|ndjson)(?:\.\d+)?(?:\.gz)?$|\.log[.-]|(?:^|[._-])(?:sys)?log(?:\.\d+)?$|^messages(?:\.\d+)?$)/i;

/**
 * Decides, on the first batch with anything but NUL bytes in it, whether
 * the file is text. A NUL early on usually means a database or an image,
 * not a log, and rewriting it would corrupt it; but a log truncated by
 * logrotate's `copytruncate` starts with a run of NULs (the writer's offset
 * kept going), and a log a crash padded with NULs is still a log. So a NUL
 * in the first 8 KiB makes a file binary only when it is not named like a
 * log and what follows the leading NUL run is not mostly text. NUL bytes
 * in scanned files are left as they are: they separate nothing a detector
 * could join. Returns whether the decision is made.
 */
function sniff(file: string, batch: Buffer, atStart: boolean): boolean {
  let lead = 0;
  if (atStart || batch[0] === 0) while (lead < batch.length && batch[lead] === 0) lead++;
  if (lead === batch.length) return false;
  const head = batch.subarray(atStart ? 0 : lead, (atStart ? 0 : lead) + 8192);
  if (!head.includes(0)) return true;
  if (LOG_NAME.test(basename(file))) return true;
  const sample = batch.subarray(lead, lead + 8192);
  let control = 0;
  for (const b of sample) if (b === 0 || (b < 32 && b !== 9 && b !== 10 && b !== 13 && b !== 12 && b !== 27)) control++;
  if (control * 50 > sample.length) throw new BinaryFile();
  return true;
}

/** By magic number, not extension: rotated logs are often gzipped without `.gz`. */
async function isGzip(fh: FileHandle): Promise<boolean> {
  const head = Buffer.alloc(2);
  const { bytesRead } = await fh.read(head, 0, 2, 0);
  return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
}

async function fsyncFile(file: string): Promise<void> {
  const fh = await open(file, "r+");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
