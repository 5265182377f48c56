import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { ledgerProject, pgState } from "./helpers.js";

// QA (issue 9, trust): a writer of the state database, without the master key, set `retired_at` on the
// current signing key's row. Every checkpoint (so every run's end) then stopped with CONFLICT (exit 3)
// "retired by a key rotation: restart it to load the new key", believing a row whose MAC no longer matched;
// a restart changes nothing. A retirement that does not authenticate is tampering (AUDIT_FAILED, exit 4).
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function cases(state: () => Promise<string>) {
  it("a retirement written into signing_keys without the chain key is reported as tampering", async () => {
    const l = await ledgerProject(await state(), (c) => cleanups.push(c)).open();
    await l.ledger.append([{ action: "hold_added", reason: "x" }]);
    await l.audit.checkpoint();
    await sql`update signing_keys set retired_at = ${new Date().toISOString()}, retired_after = 1`.execute(l.state.db);
    await l.ledger.append([{ action: "hold_added", reason: "y" }]);
    await expect(l.audit.checkpoint()).rejects.toMatchObject({
      code: "AUDIT_FAILED",
      message: expect.stringMatching(/says it was retired, but it is not authentic/),
    });
  });
}

describe("a forged signing-key retirement, SQLite state", () => {
  cases(async () => "./.lethe");
});

describe("a forged signing-key retirement, PostgreSQL state", () => {
  cases(() => pgState(cleanups));
});
