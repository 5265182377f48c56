import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { openState } from "../../src/state/open-state.js";

// Found by QA: a SIGKILL during the first `lethe apply` (while the SQLite state's migrations ran) left the
// state unopenable for good ("index ledger_subject_tag already exists"): each migration's DDL ran outside a
// transaction, so a migration cut halfway kept its first statements but not its record, and every later open
// ran it again. A statement that fails halfway through a migration is the same interruption, made deterministic.
describe("SQLite state migrations", () => {
  it("a migration interrupted halfway leaves nothing behind, and the next open completes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lethe-mig-"));
    // Occupies the name of the second index migration 0005 creates (tables and indexes share one namespace),
    // so 0005 fails after its first CREATE INDEX.
    const raw = new Database(join(dir, "state.db"));
    raw.exec("create table ledger_item_tag (x integer)");
    raw.close();
    await expect(openState({ kind: "sqlite", dir })).rejects.toThrow();

    const again = new Database(join(dir, "state.db"));
    again.exec("drop table ledger_item_tag");
    again.close();
    const state = await openState({ kind: "sqlite", dir });
    try {
      const head = await state.db.selectFrom("ledger_head").select("seq").executeTakeFirst();
      expect(Number(head?.seq)).toBe(0);
    } finally {
      await state.close();
    }
  });
});
