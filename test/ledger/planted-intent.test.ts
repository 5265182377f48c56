import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import type { Lethe } from "../../src/lethe.js";
import { ledgerProject, pgState } from "./helpers.js";

// QA (issue 9, trust): a writer of the state database, without the master key, inserted an intent (what a crashed
// batch leaves) listing rows that never existed and a linked file. The next start reconciled it: lethe recorded
// `deleted` entries for those rows under an old, finished run, signed them into its next checkpoint, and removed
// the named file. Intents are now sealed with an HMAC under the chain key; an unsealed or edited one is refused.
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** An intent as a crashed process on this host leaves it (its pid is not a live process). */
function crashedIntent(id: string, keys: number[]) {
  return {
    id,
    run_id: "run_crashed",
    dataset: "logs",
    payload: JSON.stringify({
      pid: 4_194_303,
      host: hostname(),
      reason: "retention",
      action: "delete",
      items: keys.map((k) => ({ k })),
    }),
  };
}

const deletedKeys = async (l: Lethe) =>
  (await l.audit.log({ dataset: "logs" })).filter((e) => e.action === "deleted").map((e) => e.key);

function cases(state: () => Promise<string>) {
  it("an intent lethe did not seal is refused, nothing recorded; one it sealed is reconciled", async () => {
    const p = ledgerProject(await state(), (c) => cleanups.push(c));
    const l = await p.open();
    const planted = crashedIntent("planted", [777_777]);
    // Written the way any SQL client would, naming only the columns an intent always had.
    await sql`insert into intents (id, run_id, dataset, payload, opened_at) values (${planted.id}, ${planted.run_id}, ${planted.dataset}, ${planted.payload}, ${new Date().toISOString()})`.execute(
      l.state.db,
    );
    await expect(l.executor.reconcile()).rejects.toMatchObject({
      code: "AUDIT_FAILED",
      message: expect.stringMatching(/1 intent\(s\) in the intents table are not authentic/),
    });
    expect(await deletedKeys(l)).toEqual([]);
    // A sealed intent whose item list was edited afterwards is refused the same way.
    await sql`delete from intents`.execute(l.state.db);
    const sealed = crashedIntent("sealed", [5]);
    await l.state.db
      .insertInto("intents")
      .values({ ...sealed, opened_at: new Date().toISOString(), mac: l.ledger.intentMac(sealed) })
      .execute();
    await sql`update intents set payload = ${crashedIntent("sealed", [5, 6]).payload}`.execute(l.state.db);
    await expect(l.executor.reconcile()).rejects.toMatchObject({ code: "AUDIT_FAILED" });
    expect(await deletedKeys(l)).toEqual([]);
    await sql`update intents set payload = ${sealed.payload}`.execute(l.state.db);
    expect(await l.executor.reconcile()).toBe(1);
    expect(await deletedKeys(l)).toEqual([5]);
  });
}

describe("intents a state writer planted, SQLite state", () => {
  cases(async () => "./.lethe");
});

describe("intents a state writer planted, PostgreSQL state", () => {
  cases(() => pgState(cleanups));
});

// The transition and rotation paths are the same code on both backends; SQLite keeps the key file simple.
describe("open intents across the upgrade and a master-key rotation, SQLite state", () => {
  it("an intent open at the upgrade is sealed by it; a master-key rotation reseals open intents", async () => {
    const p = ledgerProject("./.lethe", (c) => cleanups.push(c));
    let l = await p.open();
    // The state as a crash right before upgrading to 0012 leaves it: an intent, no mac column (nor 0013's seal).
    await sql`alter table intents drop column mac`.execute(l.state.db);
    await sql`delete from lethe_migrations where name in ('0012-intent-mac', '0013-holds-seal')`.execute(l.state.db);
    await sql`drop index ledger_hold_seq`.execute(l.state.db);
    await sql`delete from lethe_meta where key = 'holds-seal'`.execute(l.state.db);
    const before = crashedIntent("before-upgrade", [7]);
    await sql`insert into intents (id, run_id, dataset, payload, opened_at) values (${before.id}, ${before.run_id}, ${before.dataset}, ${before.payload}, ${new Date().toISOString()})`.execute(
      l.state.db,
    );
    await l.close();
    l = await p.open(); // applies 0012, seals the intent, and reconciles it (every open does)
    expect(await deletedKeys(l)).toEqual([7]);
    const open = crashedIntent("before-rotation", [8]);
    await l.state.db
      .insertInto("intents")
      .values({ ...open, opened_at: new Date().toISOString(), mac: l.ledger.intentMac(open) })
      .execute();
    const newKey = randomBytes(32);
    await l.keyRotation.master(newKey);
    await l.close();
    writeFileSync(join(p.dir, ".lethe", "master.key"), newKey.toString("hex"));
    l = await p.open(); // holds only the new key: reconciles the intent only if the rotation resealed it
    expect(await deletedKeys(l)).toEqual([7, 8]);
  });
});
