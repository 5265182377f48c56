import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { Command } from "commander";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { registerScanLogs, scanLogsCommand } from "../../src/cli/commands/scan-logs.js";
import { scanLogs } from "../../src/redact/scan-logs.js";

describe("scan-logs files", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "lethe-scan-logs-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("scans a copytruncate log that starts with NULs, and keeps the NULs", async () => {
    const file = join(dir, "app.log");
    writeFileSync(file, Buffer.concat([Buffer.alloc(20000), Buffer.from("mail jane@example.com\n")]));
    const unnamed = join(dir, "current");
    writeFileSync(unnamed, Buffer.concat([Buffer.alloc(100), Buffer.from("mail jane@example.com\nmore text\n")]));
    const res = await scanLogs(dir, { redact: true });
    expect(res.counts).toEqual({ email: 2 });
    expect(res.files.every((f) => f.skipped === undefined)).toBe(true);
    const copy = readFileSync(`${file}.redacted`);
    expect(copy.subarray(0, 20000).every((b) => b === 0)).toBe(true);
    expect(copy.subarray(20000).toString()).toBe("mail [EMAIL]\n");
  });

  it("reports skipped binaries and failed files in JSON and in the summary", async () => {
    writeFileSync(join(dir, "db.sqlite"), Buffer.from([0x53, 0x51, 0, 0, 1, 2, 0, 3, 0, 0]));
    writeFileSync(join(dir, "a.log"), "mail jane@example.com\n");
    const gz = gzipSync(`${"line jane@example.com\n".repeat(2000)}tail kim@example.org\n`);
    writeFileSync(join(dir, "b.log.gz"), gz.subarray(0, gz.length - 12));
    const r = await scanLogsCommand([dir], { json: true });
    const j = r.json as Record<string, unknown>;
    expect(r.exitCode).toBe(1);
    expect(j.skipped).toEqual([{ file: join(dir, "db.sqlite"), reason: "binary file" }]);
    expect(j.errors).toEqual([{ file: join(dir, "b.log.gz"), reason: expect.any(String) }]);
    expect(j.truncated).toBe(false);
    // The decodable part of the truncated .gz is reported.
    expect((j.counts as Record<string, number>).email).toBeGreaterThan(1000);
    expect(r.text).toMatch(/found \d+ in 2 of 2 files \(1 failed, 1 skipped\): email \d+/);
  });

  it("--in-place alone implies --redact", async () => {
    const file = join(dir, "a.log");
    writeFileSync(file, "mail jane@example.com\n");
    let result: unknown;
    const program = new Command().exitOverride().option("--json").option("--config <path>");
    registerScanLogs(program, async (fn) => {
      result = await fn();
    });
    await program
      .parseAsync(["node", "lethe", "scan-logs", file, "--in-place"], {
        from: "node",
      })
      .catch((err: Error) => {
        result = err;
      });
    expect(result).toMatchObject({ exitCode: 1 });
    expect(readFileSync(file, "utf8")).toBe("mail [EMAIL]\n");
  });

  it("says when findings were cut at the cap", async () => {
    writeFileSync(join(dir, "a.log"), "a jane@example.com b kim@example.org\n");
    const r = await scanLogsCommand([dir], { json: true });
    expect((r.json as { truncated: boolean }).truncated).toBe(false);
    const res = await scanLogs(dir, { maxFindings: 1 });
    expect(res.truncated).toBe(true);
  });
});
