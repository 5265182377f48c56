import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { scanLogsCommand } from "../../src/cli/commands/scan-logs.js";
import { LetheError } from "../../src/core/errors.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "lethe-scan-cmd-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("scan-logs command", () => {
  it("exits 0 with an empty report when nothing is found", async () => {
    writeFileSync(join(dir, "a.log"), "all quiet v1.2.3.4\n");
    const r = await scanLogsCommand([dir], { json: true });
    expect(r.exitCode).toBe(0);
    expect(r.json).toEqual({ findings: [], counts: {}, truncated: false, scanned: 1, skipped: [], errors: [] });
    expect(r.text).toBe("no personal data found in 1 file");
  });

  it("exits 1 with the contract JSON shape when something is found", async () => {
    const file = join(dir, "a.log");
    writeFileSync(file, "ok\nmail jane@example.com\n");
    const r = await scanLogsCommand([file], { json: true });
    expect(r.exitCode).toBe(1);
    expect(r.json).toEqual({
      findings: [{ file, line: 2, type: "email", excerpt: "j***@e***.com" }],
      counts: { email: 1 },
      truncated: false,
      scanned: 1,
      skipped: [],
      errors: [],
    });
    expect(r.text).toContain(`${file}:2  email  j***@e***.com`);
    expect(r.text).toContain("found 1 in 1 of 1 file: email 1");
    expect(r.text).not.toContain("jane@");
  });

  it("writes copies with --redact and replaces with --in-place", async () => {
    const file = join(dir, "a.log");
    writeFileSync(file, "mail jane@example.com\n");
    const copy = await scanLogsCommand([file], { redact: true });
    expect(copy.text).toContain(`wrote ${file}.redacted`);
    expect(readFileSync(`${file}.redacted`, "utf8")).toBe("mail [EMAIL]\n");
    const inPlace = await scanLogsCommand([file], { inPlace: true });
    expect(inPlace.exitCode).toBe(1);
    expect(inPlace.text).toContain("in place");
    expect(readFileSync(file, "utf8")).toBe("mail [EMAIL]\n");
  });

  it("passes config patterns and keys through", async () => {
    const file = join(dir, "a.log");
    writeFileSync(file, "patient MRN-123456 diagnosis=flu\n");
    const r = await scanLogsCommand([file], {
      patterns: [{ name: "mrn", regex: "MRN-\\d{6}" }],
      keys: ["diagnosis"],
    });
    expect((r.json as { counts: unknown }).counts).toEqual({ mrn: 1, sensitive_field: 1 });
  });

  it("fails before touching anything on a missing path or no path", async () => {
    await expect(scanLogsCommand([dir, join(dir, "nope")], { inPlace: true })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    await expect(scanLogsCommand([], {})).rejects.toBeInstanceOf(LetheError);
  });
});
