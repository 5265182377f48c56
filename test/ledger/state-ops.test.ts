import { copyFileSync, cpSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { letheIn, tempDir } from "../helpers/cli.js";
import { makeProject } from "../helpers/project.js";
import { createTestPgDatabase, requireService } from "../helpers/services.js";

interface Entry {
  seq: number;
  hash: string;
  action: string;
  /** On the export line of one item of a batch entry (ledger v2), with the item's salt. */
  item?: number;
  salt?: string;
}

const drops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const d of drops) await d().catch(() => undefined);
});

async function log(dir: string): Promise<Entry[]> {
  const out = (await letheIn(["audit", "export", "--format", "jsonl"], dir)).stdout.trim();
  return out ? out.split("\n").map((l) => JSON.parse(l) as Entry) : [];
}

/** A project with history: deletions, a hold, an exported checkpoint. */
async function withHistory() {
  const p = makeProject({ safety: 1 });
  expect((await letheIn(["apply", "--force"], p.dir)).code).toBe(0);
  expect((await letheIn(["hold", "add", "--subject", "user-1", "--reason", "case 7"], p.dir)).code).toBe(0);
  expect((await letheIn(["audit", "checkpoint", "--out", "cp.json"], p.dir)).code).toBe(0);
  return p;
}

describe("operating the state", () => {
  it("state backup copies the SQLite state online; the restored copy verifies against a checkpoint taken before it", async () => {
    const p = await withHistory();
    const before = await log(p.dir);
    const r = await letheIn(["state", "backup", "--out", join(p.dir, "backup.db"), "--json"], p.dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("backup.db");
    // More history after the backup: a restore rolls it back, and an exported checkpoint shows it.
    expect((await letheIn(["apply", "--force"], p.dir)).code).toBe(0);
    expect((await letheIn(["audit", "checkpoint", "--out", "later.json"], p.dir)).code).toBe(0);

    const restored = tempDir();
    cpSync(p.dir, restored, { recursive: true });
    rmSync(join(restored, ".lethe"), { recursive: true });
    cpSync(join(p.dir, ".lethe"), join(restored, ".lethe"), { recursive: true, filter: (f) => !/state\.db/.test(f) });
    copyFileSync(join(p.dir, "backup.db"), join(restored, ".lethe", "state.db"));
    expect((await letheIn(["audit", "verify", "--checkpoint", "cp.json"], restored)).code).toBe(0);
    expect((await log(restored)).map((e) => e.hash)).toEqual(before.map((e) => e.hash));
    expect((await letheIn(["audit", "verify", "--checkpoint", "later.json"], restored)).code).toBe(4);
  }, 180_000);

  it("state migrate --to postgres:// moves the whole state without changing or re-signing history", async (ctx) => {
    requireService(ctx, "pg");
    const db = await createTestPgDatabase();
    drops.push(db.drop);
    const p = await withHistory();
    const before = await log(p.dir);
    const key = (await letheIn(["audit", "public-key"], p.dir)).stdout;
    const r = await letheIn(["state", "migrate", "--to", db.url, "--json"], p.dir);
    expect(r.code, r.stderr).toBe(0);
    const tables = (r.json as { tables: { table: string; rows: number }[] }).tables;
    // Every entry, and every item row of its batch entries (an export line each, after its entry).
    const items = before.filter((e) => e.item !== undefined).length;
    expect(items).toBeGreaterThan(0); // the run's deletions are batch entries: the item table is really moved
    expect(tables.find((t) => t.table === "ledger")?.rows).toBe(before.length - items);
    expect(tables.find((t) => t.table === "ledger_items")?.rows).toBe(items);
    // Into a database that already holds a ledger: refused, nothing copied.
    expect((await letheIn(["state", "migrate", "--to", db.url], p.dir)).code).toBe(3);

    const yaml = readFileSync(join(p.dir, "lethe.yaml"), "utf8").replace("state: ./.lethe", `state: ${db.url}`);
    writeFileSync(join(p.dir, "lethe.yaml"), yaml);
    expect((await letheIn(["audit", "public-key"], p.dir)).stdout).toBe(key);
    expect((await letheIn(["audit", "verify", "--checkpoint", "cp.json"], p.dir)).code).toBe(0);
    // Item salts derive from the subject key, which moves with the state: the same salts, the same batch roots.
    const lines = (e: Entry) => [e.seq, e.item, e.hash, e.salt];
    expect((await log(p.dir)).map(lines)).toEqual(before.map(lines));
    const holds = (await letheIn(["hold", "list", "--json"], p.dir)).json as { holds: unknown[] };
    expect(holds.holds).toHaveLength(1);
    // The migrated state keeps working: new entries chain on, old checkpoints still prove the prefix.
    expect((await letheIn(["plan"], p.dir)).code).toBe(0);
    expect((await letheIn(["audit", "verify", "--checkpoint", "cp.json"], p.dir)).code).toBe(0);
    expect((await log(p.dir)).length).toBe(before.length + 1);
  }, 180_000);
});
