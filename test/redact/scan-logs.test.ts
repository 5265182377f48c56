import { spawnSync } from "node:child_process";
import {
  closeSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { replaceAndShred } from "../../src/redact/atomic-replace.js";
import { scanLogs } from "../../src/redact/scan-logs.js";

const CANARY = "canary.7f3a9@example.com";
const CARD = "4111 1111 1111 1111";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "lethe-scan-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const TEXT_LOG = [
  "2024-05-01T12:00:00Z INFO started v1.2.3.4 build 8daf3f89fff22fc611d47471b1b5bdeb77efecaa",
  `2024-05-01T12:00:01Z INFO user ${CANARY} signed in from 10.20.30.40`,
  "2024-05-01T12:00:02Z INFO order 550e8400-e29b-41d4-a716-446655440000 total 12.50",
  `2024-05-01T12:00:03Z WARN payment card ${CARD} declined`,
  "",
].join("\n");

const JSONL = [
  { level: 30, time: 1714567890123, msg: "ok", reqId: "550e8400-e29b-41d4-a716-446655440000" },
  { level: 30, time: 1714567890124, msg: `mail ${CANARY}`, prompt: "my symptoms are…", prompt_tokens: 12 },
  { level: 50, time: 1714567890125, err: { message: `card ${CARD}\nat x`, stack: "Error\n    at f (/a.js:1:2)" } },
]
  .map((o) => JSON.stringify(o))
  .join("\n");

/** Every byte of every file under `root`, hidden and temporary files included. */
function allBytes(root: string): string {
  let out = "";
  for (const e of readdirSync(root, { withFileTypes: true, recursive: true })) {
    const p = join(e.parentPath, e.name);
    if (e.isFile()) {
      const raw = readFileSync(p);
      out += raw.toString("latin1");
      if (raw[0] === 0x1f && raw[1] === 0x8b) out += gunzipSync(raw).toString("latin1");
    }
  }
  return out;
}

describe("scanLogs", () => {
  it("reports findings with line numbers, masked excerpts and counts", async () => {
    const file = join(dir, "app.log");
    writeFileSync(file, TEXT_LOG);
    const res = await scanLogs(file);
    expect(res.findings.map((f) => [f.line, f.type])).toEqual([
      [2, "email"],
      [2, "ip"],
      [4, "card"],
    ]);
    expect(res.counts).toEqual({ email: 1, ip: 1, card: 1 });
    expect(res.findings[0]?.excerpt).toBe("c***@e***.com");
    expect(res.findings[2]?.excerpt).toBe("****1111");
    expect(JSON.stringify(res)).not.toContain(CANARY);
    expect(JSON.stringify(res)).not.toContain(CARD);
    expect(readFileSync(file, "utf8")).toBe(TEXT_LOG);
    expect(readdirSync(dir)).toEqual(["app.log"]);
  });

  it("scans JSON lines and writes a redacted copy that still parses", async () => {
    const file = join(dir, "app.jsonl");
    writeFileSync(file, JSONL);
    const res = await scanLogs(file, { redact: true });
    expect(res.counts).toEqual({ email: 1, sensitive_field: 1, card: 1 });
    expect(res.files[0]?.output).toBe(`${file}.redacted`);
    const copy = readFileSync(`${file}.redacted`, "utf8");
    const records = copy.split("\n").map((l) => JSON.parse(l));
    expect(records[1]).toMatchObject({ msg: "mail [EMAIL]", prompt: "[REDACTED]", prompt_tokens: 12 });
    expect(records[2].err.message).toBe("card [CARD]\nat x");
    expect(readFileSync(file, "utf8")).toBe(JSONL);
  });

  it("reads and writes gzip", async () => {
    const file = join(dir, "app.log.gz");
    writeFileSync(file, gzipSync(TEXT_LOG));
    const res = await scanLogs(file, { redact: true });
    expect(res.counts).toEqual({ email: 1, ip: 1, card: 1 });
    expect(res.bytes).toBe(Buffer.byteLength(TEXT_LOG));
    const copy = join(dir, "app.log.redacted.gz");
    expect(res.files[0]?.output).toBe(copy);
    const text = gunzipSync(readFileSync(copy)).toString("utf8");
    expect(text).toBe(TEXT_LOG.replace(CANARY, "[EMAIL]").replace("10.20.30.40", "[IP]").replace(CARD, "[CARD]"));
  });

  it("detects gzip by content, and reports a corrupt one without stopping", async () => {
    writeFileSync(join(dir, "rotated.1"), gzipSync(TEXT_LOG));
    writeFileSync(join(dir, "broken.gz"), Buffer.concat([gzipSync(TEXT_LOG).subarray(0, 30)]));
    writeFileSync(join(dir, "z.log"), `x ${CANARY}\n`);
    const res = await scanLogs(dir);
    const byName = Object.fromEntries(res.files.map((f) => [f.file.slice(dir.length + 1), f]));
    expect(byName["rotated.1"]?.findings).toBe(3);
    expect(byName["broken.gz"]?.error).toBeDefined();
    expect(byName["z.log"]?.findings).toBe(1);
  });

  it("walks directory trees, never following symlinks, skipping binaries and its own outputs", async () => {
    const outside = mkdtempSync(join(tmpdir(), "lethe-outside-"));
    try {
      writeFileSync(join(outside, "secret.log"), `outside ${CANARY}\n`);
      mkdirSync(join(dir, "a", "b"), { recursive: true });
      writeFileSync(join(dir, "a", "one.log"), `x ${CANARY}\n`);
      writeFileSync(join(dir, "a", "b", "two.log"), `card ${CARD}\n`);
      writeFileSync(join(dir, "a", "b", "two.log.redacted"), "already done [CARD]\n");
      writeFileSync(join(dir, "a", "db.sqlite"), Buffer.from([0x53, 0x51, 0, 0, ...Buffer.from(CANARY)]));
      symlinkSync(join(outside, "secret.log"), join(dir, "a", "link.log"));
      symlinkSync(outside, join(dir, "a", "linkdir"));
      const res = await scanLogs(dir, { inPlace: true });
      const rel = (f: string) => f.slice(dir.length + 1);
      expect(res.findings.map((f) => [rel(f.file), f.type])).toEqual([
        ["a/b/two.log", "card"],
        ["a/one.log", "email"],
      ]);
      expect(res.files.filter((f) => f.skipped).map((f) => [rel(f.file), f.skipped])).toEqual([
        ["a/db.sqlite", "binary file"],
        ["a/link.log", "symlink (not followed)"],
        ["a/linkdir", "symlink (not followed)"],
      ]);
      expect(readFileSync(join(outside, "secret.log"), "utf8")).toContain(CANARY);
      expect(readFileSync(join(dir, "a", "db.sqlite")).toString("latin1")).toContain(CANARY);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it("--in-place replaces the file and leaves the old bytes nowhere", async () => {
    const file = join(dir, "app.log");
    writeFileSync(file, TEXT_LOG, { mode: 0o640 });
    const before = statSync(file);
    // A reader holding the old file open sees what the disk holds for the old inode.
    const reader = openSync(file, "r");
    try {
      const res = await scanLogs(file, { inPlace: true });
      expect(res.files[0]?.output).toBe(file);
      const now = readFileSync(file, "utf8");
      expect(now).not.toContain(CANARY);
      expect(now).toContain("user [EMAIL] signed in from [IP]");
      expect(statSync(file).mode & 0o777).toBe(0o640);
      expect(statSync(file).ino).not.toBe(before.ino);
      const old = Buffer.alloc(before.size);
      readSync(reader, old, 0, before.size, 0);
      expect(old.toString("latin1")).not.toContain(CANARY);
      expect(old.toString("latin1")).not.toContain("2024-05-01");
      expect(readdirSync(dir)).toEqual(["app.log"]);
      expect(allBytes(dir)).not.toContain(CANARY);
      // grep exits 1 when nothing matches anywhere under the directory.
      const grep = spawnSync("grep", ["-r", "-a", "-l", "canary", dir], { encoding: "utf8" });
      expect([grep.status, grep.stdout]).toEqual([1, ""]);
    } finally {
      closeSync(reader);
    }
  });

  it("--in-place on gzip keeps it gzip and leaves no canary in the directory", async () => {
    const file = join(dir, "app.log.gz");
    writeFileSync(file, gzipSync(JSONL));
    const res = await scanLogs(dir, { inPlace: true });
    expect(res.counts).toEqual({ email: 1, sensitive_field: 1, card: 1 });
    const text = gunzipSync(readFileSync(file)).toString("utf8");
    expect(text.split("\n")).toHaveLength(3);
    expect(allBytes(dir)).not.toContain(CANARY);
    expect(readdirSync(dir)).toEqual(["app.log.gz"]);
  });

  it("leaves clean files untouched, with no copies", async () => {
    const file = join(dir, "clean.log");
    writeFileSync(file, "nothing here 1.2.3.4 550e8400-e29b-41d4-a716-446655440000\n");
    const ino = statSync(file).ino;
    const res = await scanLogs(dir, { inPlace: true });
    expect(res.counts).toEqual({});
    expect(statSync(file).ino).toBe(ino);
    expect(readdirSync(dir)).toEqual(["clean.log"]);
  });

  it("refuses --in-place on a file with other hard links", async () => {
    const file = join(dir, "app.log");
    writeFileSync(file, TEXT_LOG);
    linkSync(file, join(dir, "other-name"));
    const res = await scanLogs(file, { inPlace: true });
    expect(res.files[0]?.error).toMatch(/hard links/);
    expect(readFileSync(file, "utf8")).toBe(TEXT_LOG);
    expect(readdirSync(dir).sort()).toEqual(["app.log", "other-name"]);
  });

  it("refuses to swap a file that changed since the scan", async () => {
    const file = join(dir, "app.log");
    writeFileSync(file, TEXT_LOG);
    writeFileSync(join(dir, "tmp"), "redacted");
    const st = statSync(file);
    await expect(
      replaceAndShred(file, join(dir, "tmp"), { dev: st.dev, ino: st.ino, size: st.size - 1, mtimeMs: st.mtimeMs }),
    ).rejects.toThrow(/changed while it was scanned/);
    expect(readFileSync(file, "utf8")).toBe(TEXT_LOG);
  });

  it("streams large files in batches with correct line numbers and no match cut at a batch edge", async () => {
    const file = join(dir, "big.log");
    const filler = "2024-05-01T12:00:00Z INFO request served in 12ms id=550e8400-e29b-41d4-a716-446655440000\n";
    const lines: string[] = [];
    for (let i = 0; i < 60_000; i++) lines.push(i % 10_000 === 9_999 ? `user ${i}.${CANARY}\n` : filler);
    writeFileSync(file, lines.join(""));
    const res = await scanLogs(file, { redact: true });
    expect(res.findings.map((f) => f.line)).toEqual([10_000, 20_000, 30_000, 40_000, 50_000, 60_000]);
    expect(res.bytes).toBeGreaterThan(5 * 1024 * 1024);
    const expected = lines.map((l) => (l.includes(CANARY) ? "user [EMAIL]\n" : l)).join("");
    expect(readFileSync(`${file}.redacted`, "latin1") === expected).toBe(true);
  });

  it("keeps non-ASCII bytes intact in redacted output", async () => {
    const file = join(dir, "utf8.log");
    const content = `héllo wörld ✓ 日本 ${CANARY} ünïcode\n\xff\xfe raw\n`;
    writeFileSync(file, Buffer.concat([Buffer.from(content.split("\n")[0] ?? ""), Buffer.from([10, 0xff, 0xfe, 10])]));
    await scanLogs(file, { redact: true });
    const out = readFileSync(`${file}.redacted`);
    expect(out.toString("utf8").split("\n")[0]).toBe("héllo wörld ✓ 日本 [EMAIL] ünïcode");
    expect([...out.subarray(-3)]).toEqual([0xff, 0xfe, 10]);
  });
});
