import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { itemIs, subjectIs } from "../../src/ledger/lookup.js";
import { openLethe } from "../../src/lethe.js";
import { makeProject } from "../helpers/project.js";

const quiet = { logger: { warn: () => undefined, info: () => undefined } };
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

describe("ledger lookups by subject and item", () => {
  it("use the tag indexes and return exact matches only", async () => {
    const p = makeProject({ logs: 40 });
    const lethe = await openLethe(join(p.dir, "lethe.yaml"), quiet);
    closers.push(() => lethe.close());
    await lethe.apply({ force: true });
    const h = lethe.ledger.subjectHash("user-2");
    // Same 12-digit tag, different subject: must not be returned.
    await lethe.ledger.append([
      { action: "hold_added", subjectHash: `${h.slice(0, 12)}${"0".repeat(52)}`, reason: "look-alike" },
    ]);
    const bySubject = await lethe.audit.log({ subject: "user-2" });
    expect(bySubject.length).toBeGreaterThan(0);
    expect(bySubject.every((e) => e.subjectHash === h)).toBe(true);
    const expired = p.expiredLogs[0] as number;
    const byKey = await lethe.audit.log({ dataset: "logs", key: String(expired) });
    expect(byKey.map((e) => [e.action, e.key])).toEqual([["deleted", expired]]);

    const state = new Database(join(p.dir, ".lethe", "state.db"), { readonly: true });
    const plan = (q: { sql: string; parameters: readonly unknown[] }) =>
      (state.prepare(`explain query plan ${q.sql}`).all(...q.parameters) as { detail: string }[])
        .map((r) => r.detail)
        .join("; ");
    const db = lethe.state.db;
    expect(plan(db.selectFrom("ledger").selectAll().where(subjectIs(h)).compile())).toMatch(/ledger_subject_tag/);
    expect(
      plan(
        db
          .selectFrom("ledger")
          .selectAll()
          .where(itemIs(["7", "ab".repeat(32)]))
          .compile(),
      ),
    ).toMatch(/ledger_item_tag/);
    state.close();
  });
});
