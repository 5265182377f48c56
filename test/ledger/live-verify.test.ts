import { afterEach, describe, expect, it } from "vitest";
import { createTestPgDatabase, requireService } from "../helpers/services.js";
import { ledgerProject } from "./helpers.js";

// `audit verify` on a ledger that other instances keep appending to (several `lethe serve`
// processes on one PostgreSQL state) must judge one consistent moment, not report tampering.
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function project(state: string) {
  return ledgerProject(state, (c) => cleanups.push(c)).open();
}

async function verifyWhileAppending(state: string) {
  const lethe = await project(state);
  // More than one verification page (10,000 rows), so appends land between pages. `held` stays one
  // entry per item (ledger v2 folds deletions into one batch entry per append).
  for (let b = 0; b < 5; b++)
    await lethe.ledger.append(
      Array.from({ length: 5000 }, (_, i) => ({ action: "held" as const, dataset: "logs", key: b * 5000 + i })),
    );
  await lethe.audit.checkpoint();
  const before = await lethe.ledger.size();
  let done = false;
  let appended = 0;
  const writer = (async () => {
    while (!done) {
      // One batch entry (of one deleted item) per append: its item rows are verified too.
      await lethe.ledger.append([{ action: "deleted", dataset: "logs", key: 1_000_000 + appended }]);
      appended += 1;
      if (appended % 5 === 0) await lethe.audit.checkpoint();
      await new Promise((r) => setImmediate(r));
    }
  })();
  const result = await lethe.audit.verify();
  const sizeAfterVerify = await lethe.ledger.size();
  done = true;
  await writer;
  expect(sizeAfterVerify).toBeGreaterThan(before); // the ledger really grew while it was verified
  expect(result).toMatchObject({ ok: true });
  expect(result.entries).toBeGreaterThanOrEqual(before);
  expect(await lethe.audit.verify()).toMatchObject({ ok: true, entries: before + appended });
}

describe("audit verify on a ledger that is being appended to", () => {
  it("SQLite state: ok, as of the head it read first", async () => {
    await verifyWhileAppending("./.lethe");
  }, 60_000);

  it("PostgreSQL state: ok, as of the head it read first", async (ctx) => {
    requireService(ctx, "pg");
    const db = await createTestPgDatabase();
    cleanups.push(() => db.drop());
    await verifyWhileAppending(db.url);
  }, 60_000);
});
