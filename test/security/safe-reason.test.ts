import { mkdirSync, rmdirSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { safeReason } from "../../src/core/safe-reason.js";
import { tempDir } from "../helpers/cli.js";

const catching = (fn: () => void): unknown => {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error("expected a throw");
};

describe("failure reasons kept on the ledger", () => {
  it("keep the code, the call and the explanation of a system error, never its path", () => {
    const dir = join(tempDir(), "users", "jane.doe@example.com");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "scan.bin"), "x");
    const errs = [
      catching(() => unlinkSync(join(dir, "missing.bin"))),
      catching(() => rmdirSync(dir)), // not empty
      catching(() => unlinkSync(dir)), // a directory
    ];
    for (const err of errs) {
      expect((err as Error).message).toContain("jane.doe@example.com"); // Node's own message has it
      const r = safeReason(err);
      expect(r).not.toContain("jane.doe");
      expect(r).toMatch(/^E[A-Z]+ \((unlink|rmdir)\): \S/);
    }
  });

  it("drop quoted paths from other errors' messages", () => {
    const r = safeReason(new Error("cannot open '/data/users/u777/x.bin' for writing"));
    expect(r).toBe("cannot open '…' for writing");
    expect(safeReason(new Error("x".repeat(500)))).toHaveLength(200);
  });
});
