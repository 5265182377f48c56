import { cpSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { rawPg } from "../conformance/sql-fixture.js";
import { letheIn, tempDir } from "../helpers/cli.js";
import { makeProject } from "../helpers/project.js";
import { createTestPgDatabase, requireService } from "../helpers/services.js";
import { ledgerProject } from "./helpers.js";

let template: Promise<string> | undefined;

/** A project whose state holds a run's ledger (a few entries), copied afresh for each case. */
async function project(): Promise<{ dir: string; state: string }> {
  template ??= (async () => {
    const p = makeProject({ logs: 30 });
    expect((await letheIn(["apply"], p.dir)).code).toBe(0);
    return p.dir;
  })();
  const dir = tempDir();
  cpSync(await template, dir, { recursive: true });
  return { dir, state: join(dir, ".lethe", "state.db") };
}

function sqlite(path: string, statement: string): void {
  const db = new Database(path);
  db.exec(statement);
  db.close();
}

function replaceFile(path: string, bytes: Buffer): void {
  writeFileSync(path, bytes);
  rmSync(`${path}-wal`, { force: true });
  rmSync(`${path}-shm`, { force: true });
}

/**
 * A state database that is not one, or whose ledger structure an attacker with write access damaged, is a coded
 * AUDIT_FAILED (exit 4) naming what is wrong, for every command that opens it: never INTERNAL with a stack trace,
 * never a path, and nothing is deleted.
 */
describe("a corrupt or tampered state database is AUDIT_FAILED (exit 4), named, without a stack", () => {
  const cases: [string, (state: string) => void, RegExp][] = [
    [
      "random bytes",
      (s) => replaceFile(s, Buffer.alloc(8192, 0x5a)),
      /not a sound lethe state: the file is not a database/,
    ],
    [
      "truncated",
      (s) => truncateSync(s, Math.floor(statSync(s).size / 3)),
      /not a sound lethe state: the file is corrupt/,
    ],
    [
      "ledger_head row deleted",
      (s) => sqlite(s, "delete from ledger_head"),
      /the ledger head is missing while 5 entries exist/,
    ],
    ["ledger_head table dropped", (s) => sqlite(s, "drop table ledger_head"), /table ledger_head is missing/],
    ["ledger table dropped", (s) => sqlite(s, "drop table ledger"), /table ledger is missing/],
    ["ledger_items table dropped", (s) => sqlite(s, "drop table ledger_items"), /table ledger_items is missing/],
    ["checkpoints table dropped", (s) => sqlite(s, "drop table checkpoints"), /table checkpoints is missing/],
    ["holds table dropped", (s) => sqlite(s, "drop table holds"), /table holds is missing/],
    [
      "migration record dropped",
      (s) => sqlite(s, "drop table lethe_migrations"),
      /record of applied migrations is missing while the ledger exists/,
    ],
    [
      "head seq is text",
      (s) => sqlite(s, "update ledger_head set seq = 'abc'"),
      /the ledger head's entry count \(seq\) is not a non-negative integer/,
    ],
    ["head seq negative", (s) => sqlite(s, "update ledger_head set seq = -3"), /entry count \(seq\) is not/],
    [
      "head hash garbage",
      (s) => sqlite(s, "update ledger_head set hash = 'zz'"),
      /the ledger head's hash is not 64 hex/,
    ],
    [
      "head frontier not JSON",
      (s) => sqlite(s, "update ledger_head set frontier = 'not json'"),
      /Merkle frontier is not a list of hashes/,
    ],
    [
      "head frontier an object",
      (s) => sqlite(s, `update ledger_head set frontier = '{"a":1}'`),
      /Merkle frontier is not a list of hashes/,
    ],
    ["head keyed_from text", (s) => sqlite(s, "update ledger_head set keyed_from = 'x'"), /keyed_from is not/],
    ["head mac a blob", (s) => sqlite(s, "update ledger_head set mac = x'00ff'"), /MAC is not hex/],
    [
      "a second head row",
      (s) => sqlite(s, "insert into ledger_head select 2, seq, hash, frontier, mac, keyed_from from ledger_head"),
      /holds a row other than the head/,
    ],
  ];
  for (const [name, corrupt, says] of cases)
    it(name, async () => {
      const { dir, state } = await project();
      const rows = new Database(join(dir, "app.db"), { readonly: true });
      const before = (rows.prepare("select count(*) as n from logs").get() as { n: number }).n;
      rows.close();
      corrupt(state);
      for (const args of [
        ["audit", "verify", "--json"],
        ["apply", "--json"],
        ["audit", "verify", "--full"],
      ]) {
        const r = await letheIn(args, dir);
        expect(r.code, `${args.join(" ")}: ${r.stdout}${r.stderr}`).toBe(4);
        expect(r.stderr).not.toMatch(/\n\s+at |INTERNAL|SqliteError/);
        expect(r.stderr).not.toContain(dir);
        const message = args.includes("--json")
          ? (r.json as { error: { code: string; message: string } }).error
          : { code: "AUDIT_FAILED", message: r.stderr };
        expect(message.code).toBe("AUDIT_FAILED");
        expect(message.message).toMatch(says);
      }
      const after = new Database(join(dir, "app.db"), { readonly: true });
      expect((after.prepare("select count(*) as n from logs").get() as { n: number }).n).toBe(before);
      after.close();
    });
});

describe("PostgreSQL state: the same refusals", () => {
  for (const [name, statement, says] of [
    ["ledger_head row deleted", "delete from lethe.ledger_head", /the ledger head is missing while 3 entries exist/],
    ["ledger table dropped", "drop table lethe.ledger cascade", /table ledger is missing/],
    ["head frontier not JSON", "update lethe.ledger_head set frontier = 'nope'", /Merkle frontier is not a list/],
  ] as const)
    it(name, async (ctx) => {
      requireService(ctx, "pg");
      const db = await createTestPgDatabase();
      const closers: (() => Promise<void>)[] = [];
      try {
        const p = ledgerProject(db.url, (c) => closers.push(c));
        const l = await p.open();
        await l.ledger.append([{ action: "held", dataset: "logs", key: 1, reason: "hold" }]);
        await l.ledger.append([{ action: "held", dataset: "logs", key: 2, reason: "hold" }]);
        await l.ledger.append([{ action: "held", dataset: "logs", key: 3, reason: "hold" }]);
        for (const c of closers.splice(0)) await c();
        const raw = rawPg(db.url);
        // What an attacker who can write the state does first: the append-only guards go.
        await raw.exec("alter table lethe.ledger_head disable trigger user");
        await raw.exec(statement);
        await raw.close();
        for (const args of [
          ["audit", "verify", "--json"],
          ["apply", "--json"],
        ]) {
          const r = await letheIn(args, p.dir);
          expect(r.code, `${args.join(" ")}: ${r.stdout}${r.stderr}`).toBe(4);
          expect(r.stderr).not.toMatch(/\n\s+at |INTERNAL/);
          const e = (r.json as { error: { code: string; message: string } }).error;
          expect(e.code).toBe("AUDIT_FAILED");
          expect(e.message).toMatch(says);
          expect(e.message).not.toContain(db.name);
        }
      } finally {
        for (const c of closers) await c().catch(() => undefined);
        await db.drop();
      }
    });
});
