import type { KyselyPlugin, QueryId } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { scanLatest } from "../../src/ledger/scan-ledger.js";
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

describe("an append that commits between two of verify's reads (PostgreSQL reads each statement at its own moment)", () => {
  it("is not taken for item rows planted beyond the head", async (ctx) => {
    requireService(ctx, "pg");
    const db = await createTestPgDatabase();
    cleanups.push(() => db.drop());
    const lethe = await project(db.url);
    await lethe.ledger.append([{ action: "deleted", dataset: "logs", key: 1 }]);
    // Every read of the head is followed by one more append before verify sees the answer: the head verify
    // holds is always one append behind what its next statement reads (deterministic, no timing).
    const headReads = new Set<QueryId>();
    let appended = 0;
    const appendAfterHeadRead: KyselyPlugin = {
      transformQuery(args) {
        if (args.node.kind === "SelectQueryNode" && JSON.stringify(args.node).includes('"ledger_head"'))
          headReads.add(args.queryId);
        return args.node;
      },
      async transformResult(args) {
        if (headReads.delete(args.queryId) && appended < 10) {
          appended += 1;
          await lethe.ledger.append([{ action: "deleted", dataset: "logs", key: 100 + appended }]);
        }
        return args.result;
      },
    };
    const r = await scanLatest(lethe.state.db.withPlugin(appendAfterHeadRead), {
      signers: [],
      saltKey: lethe.ledger.saltKey,
      full: true,
    });
    expect(appended).toBeGreaterThan(0);
    expect(r).toMatchObject({ ok: true });
    // And the ledger the appends left verifies whole.
    expect(await lethe.audit.verify({ full: true })).toMatchObject({ ok: true, entries: 1 + appended });
  }, 60_000);
});
