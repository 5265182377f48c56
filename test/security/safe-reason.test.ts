import { mkdirSync, rmdirSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { codedReason, safeReason } from "../../src/core/safe-reason.js";
import type { DatasetDriver } from "../../src/core/types.js";
import { partitionFailure } from "../../src/executor/partition-retention.js";
import type { Ledger } from "../../src/ledger/ledger.js";
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

  it("codedReason keeps only a database's SQLSTATE or a system error's code, never the words (they may quote a row)", () => {
    const pgErr = Object.assign(new Error("duplicate key value violates unique constraint: Key (id)=(secret-7)"), {
      code: "23505",
      severity: "ERROR",
    });
    expect(codedReason(pgErr)).toBe("SQLSTATE 23505, integrity constraint violation");
    const myErr = Object.assign(new Error("Duplicate entry 'secret-7'"), { code: "ER_DUP_ENTRY", sqlState: "23000" });
    expect(codedReason(myErr)).toBe("SQLSTATE 23000, integrity constraint violation");
    const sys = catching(() => unlinkSync(join(tempDir(), "jane.doe@example.com")));
    expect(codedReason(sys)).toBe("ENOENT (unlink)");
    expect(codedReason(new TypeError("row secret-7 is bad"))).toBe("TypeError, no error code");
    // A five-letter errno is not mistaken for a SQLSTATE without the database's severity.
    expect(codedReason(Object.assign(new Error("x"), { code: "EPIPE", syscall: "write" }))).toBe("EPIPE (write)");
    expect(codedReason("secret-7")).toBe("Error, no error code");
    expect(codedReason(new Error("Connection terminated unexpectedly"))).toBe("connection terminated");
  });

  it("a partition step's database error (run or reconcile) is reported by its code, lethe's own by its text", () => {
    const ledger = { scrubText: (t: string) => t } as unknown as Ledger;
    const ds = { config: { name: "events" } } as unknown as DatasetDriver;
    const pgErr = Object.assign(new Error('invalid input syntax for type integer: "secret-7"'), {
      code: "22P02",
      severity: "ERROR",
    });
    const e = partitionFailure(ledger, ds, pgErr);
    expect(e.code).toBe("STORE_ERROR");
    expect(e.message).toBe("datasets.events: partition retention: SQLSTATE 22P02, data exception");
    expect(partitionFailure(ledger, ds, new Error("no key digest for partition public.p_old")).message).toBe(
      "datasets.events: partition retention: no key digest for partition public.p_old",
    );
  });
});
