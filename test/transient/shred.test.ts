import { randomBytes } from "node:crypto";
import { existsSync, linkSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { shredFile, shredFileAsync } from "../../src/crypto/shred.js";
import { openLethe } from "../../src/lethe.js";
import { letheIn, tempDir } from "../helpers/cli.js";
import { makeTransientProject } from "./helpers.js";
import { child } from "./process.js";

/** A separate process that opens the file first and reads it through that descriptor when told to. */
const READER = `
import { openSync, readSync, fstatSync } from "node:fs";
const fd = openSync(process.argv[1], "r");
process.stdout.write("OPEN\\n");
process.stdin.once("data", () => {
  const size = fstatSync(fd).size;
  const buf = Buffer.alloc(size);
  let off = 0;
  while (off < size) off += readSync(fd, buf, off, size - off, off);
  process.stdout.write("DATA " + buf.toString("base64") + "\\n");
});
`;

async function readThroughEarlierDescriptor(path: string, shred: () => Promise<void>): Promise<Buffer> {
  const { proc } = await child(READER, [path], "OPEN");
  await shred();
  expect(existsSync(path)).toBe(false);
  const line = await new Promise<string>((ok) => {
    // Chunks are joined only once one ends a line: the 4 MB of base64 arrive in many small chunks.
    const chunks: Buffer[] = [];
    proc.stdout?.on("data", (d: Buffer) => {
      chunks.push(d);
      if (!d.includes(10)) return;
      const out = Buffer.concat(chunks).toString();
      const start = out.indexOf("DATA ");
      const end = start >= 0 ? out.indexOf("\n", start) : -1;
      if (end > 0) ok(out.slice(start, end));
    });
    proc.stdin?.write("go\n");
  });
  proc.kill();
  return Buffer.from(line.slice(5), "base64");
}

/**
 * True if the original content is still visible: any of 64 sampled 16-byte
 * windows found anywhere, or more positions equal than chance (1/256 for a
 * random or zero overwrite of random data) allows.
 */
function hasOriginalBytes(seen: Buffer, original: Buffer): boolean {
  const step = Math.floor(original.length / 64);
  for (let i = 0; i + 16 <= original.length; i += step) if (seen.includes(original.subarray(i, i + 16))) return true;
  let same = 0;
  for (let i = 0; i < Math.min(seen.length, original.length); i++) if (seen[i] === original[i]) same++;
  return same / original.length > 0.02;
}

describe("shred through an open descriptor", () => {
  for (const [name, fn] of [
    ["shredFile (random)", (p: string) => Promise.resolve(shredFile(p))],
    ["shredFileAsync (random)", (p: string) => shredFileAsync(p)],
    ["shredFileAsync (zero)", (p: string) => shredFileAsync(p, { fill: "zero" })],
  ] as const) {
    it(`${name}: a process that opened the file before shows no original bytes afterwards`, async () => {
      const dir = tempDir();
      const path = join(dir, "weights.bin");
      const original = Buffer.concat([Buffer.from("CANARY-ORIGINAL-CONTENT"), randomBytes(3 * 1024 * 1024 + 17)]);
      writeFileSync(path, original);
      // Control: without shredding, the earlier descriptor does see the original (so the check can fail).
      const control = join(dir, "control.bin");
      writeFileSync(control, original);
      const unshredded = await readThroughEarlierDescriptor(control, async () => {
        const { unlinkSync } = await import("node:fs");
        unlinkSync(control);
      });
      expect(hasOriginalBytes(unshredded, original)).toBe(true);

      const seen = await readThroughEarlierDescriptor(path, async () => {
        await fn(path);
      });
      expect(seen.length).toBe(original.length);
      expect(seen.includes(Buffer.from("CANARY-ORIGINAL"))).toBe(false);
      expect(hasOriginalBytes(seen, original)).toBe(false);
    });
  }

  it("refuses symlinks, directories and files with another hard link", async () => {
    const dir = tempDir();
    const a = join(dir, "a");
    writeFileSync(a, "x");
    linkSync(a, join(dir, "b"));
    expect(() => shredFile(a)).toThrow(/hard links/);
    await expect(shredFileAsync(a)).rejects.toThrow(/hard links/);
    symlinkSync(join(dir, "b"), join(dir, "s"));
    expect(() => shredFile(join(dir, "s"))).toThrow(/symbolic link/);
    mkdirSync(join(dir, "d"));
    await expect(shredFileAsync(join(dir, "d"))).rejects.toThrow();
    expect(existsSync(a)).toBe(true);
  });
});

describe("lethe shred (CLI)", () => {
  it("records shredded/failed entries on the ledger when a config is available", async () => {
    const p = makeTransientProject();
    const f1 = join(p.dir, "old-model.pt");
    const f2 = join(p.dir, "linked.pt");
    writeFileSync(f1, randomBytes(5000));
    writeFileSync(f2, "x");
    linkSync(f2, join(p.dir, "second-name.pt"));
    const r = await letheIn(["shred", f1, f2, "--json", "--config", p.configPath], p.dir);
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({ recorded: true, files: [{ ok: true, bytes: 5000 }, { ok: false }] });
    expect(existsSync(f1)).toBe(false);
    expect(existsSync(f2)).toBe(true);
    const lethe = await openLethe(p.configPath, { logger: { warn: () => undefined, info: () => undefined } });
    try {
      const log = await lethe.audit.log({});
      const shredded = log.filter((e) => e.action === "shredded");
      expect(shredded).toHaveLength(1);
      expect(shredded[0]).toMatchObject({
        keyHash: lethe.ledger.keyHash("", f1),
        reason: "shred",
        data: { bytes: 5000 },
      });
      expect(log.filter((e) => e.action === "failed")).toHaveLength(1);
      expect(JSON.stringify(log)).not.toContain("old-model");
    } finally {
      await lethe.close();
    }
  });

  it("without a config it still shreds, and says it recorded nothing", async () => {
    const dir = tempDir();
    const f = join(dir, "x.bin");
    writeFileSync(f, "data");
    const r = await letheIn(["shred", f, "--json"], dir);
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ recorded: false, files: [{ ok: true, bytes: 4 }] });
    expect(existsSync(f)).toBe(false);
    expect(existsSync(join(dir, ".lethe"))).toBe(false);
  });

  it("a broken config stops it before anything is shredded (exit 2)", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "lethe.yaml"), "version: 1\nstores: {}\ndatasets: {}\nretenion: 3d\n");
    const f = join(dir, "x.bin");
    writeFileSync(f, "data");
    const r = await letheIn(["shred", f, "--json"], dir);
    expect(r.code).toBe(2);
    expect(existsSync(f)).toBe(true);
  });
});
