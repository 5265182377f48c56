import { writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { openLethe } from "../../src/lethe.js";
import { letheIn, tempDir } from "../helpers/cli.js";

function project(schema: string, datasets: string): { dir: string; db: string } {
  const dir = tempDir();
  const db = join(dir, "app.db");
  const d = new Database(db);
  d.exec(schema);
  d.close();
  writeFileSync(
    join(dir, "lethe.yaml"),
    `version: 1
state: ./.lethe
stores:
  appdb: { kind: sql, url: "sqlite:./app.db" }
datasets:
${datasets}`,
  );
  return { dir, db };
}

const rows = (db: string, sqlText: string) => {
  const d = new Database(db, { readonly: true });
  const r = d.prepare(sqlText).all();
  d.close();
  return r;
};

describe("erasure edge cases", () => {
  it("residue is checked after every dataset: rows a writer adds to an earlier dataset meanwhile are reported", async () => {
    // The trigger plays a concurrent writer: deleting from b re-creates a row of the subject in a.
    const p = project(
      `create table a (id integer primary key, user_id text, created_at text);
       create table b (id integer primary key, user_id text, created_at text);
       create index a_user on a (user_id); create index b_user on b (user_id);
       insert into a (user_id, created_at) values ('u1', '2026-01-01'), ('u2', '2026-01-01');
       insert into b (user_id, created_at) values ('u1', '2026-01-01');
       create trigger b_del after delete on b begin insert into a (user_id, created_at) values (old.user_id, 'x'); end;`,
      `  a: { store: appdb, table: a, key: id, subject: user_id, createdAt: created_at, retention: 30d }
  b: { store: appdb, table: b, key: id, subject: user_id, createdAt: created_at, retention: 30d }
`,
    );
    const r = await letheIn(["erase", "u1", "--yes", "--json"], p.dir);
    expect(r.code).toBe(1);
    const a = (r.json as { datasets: { name: string; residue: number }[] }).datasets.find((d) => d.name === "a");
    expect(a?.residue).toBe(1);
  });

  it("subject ids match exactly, even on a NOCASE column: erasing carol leaves Carol and CAROL", async () => {
    const p = project(
      `create table ci (id integer primary key, user_id text collate nocase, created_at text);
       create index ci_user on ci (user_id);
       insert into ci (user_id, created_at) values ('carol', '2026-01-01'), ('Carol', '2026-01-01'), ('CAROL', '2026-01-01');`,
      `  ci: { store: appdb, table: ci, key: id, subject: user_id, createdAt: created_at, retention: 30d }
`,
    );
    expect((await letheIn(["hold", "add", "--subject", "Carol", "--reason", "case"], p.dir)).code).toBe(0);
    const dry = await letheIn(["erase", "carol", "--json"], p.dir);
    expect(dry.json).toMatchObject({ held: 0, datasets: [{ name: "ci", found: 1 }] });
    const r = await letheIn(["erase", "carol", "--yes", "--json"], p.dir);
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ held: 0, residue: 0, datasets: [{ name: "ci", found: 1, deleted: 1 }] });
    expect(rows(p.db, "select user_id from ci order by id")).toEqual([{ user_id: "Carol" }, { user_id: "CAROL" }]);
  });

  it("after an erasure was interrupted (kill -9), the next erasure rewrites the store: the lost values cannot be searched for", async () => {
    const p = project(
      `create table logs (id integer primary key, user_id text, body text, created_at text);
       create index logs_user on logs (user_id);
       insert into logs (user_id, body, created_at) values ('victim', 'canary body one', '2026-01-01'),
         ('victim', 'canary body two', '2026-01-01'), ('other', 'x', '2026-01-01');`,
      `  logs: { store: appdb, table: logs, key: id, subject: user_id, createdAt: created_at, retention: 30d }
`,
    );
    const quiet = { logger: { warn: () => undefined, info: () => undefined } };
    let l = await openLethe(join(p.dir, "lethe.yaml"), quiet);
    // What a killed `erase victim --yes` leaves: its intent, its rows deleted, no outcome recorded.
    const intent = {
      id: "crashed-intent",
      run_id: "run_crashed",
      dataset: "logs",
      payload: JSON.stringify({
        pid: 4_194_303, // not a live process
        host: (await import("node:os")).hostname(),
        reason: "erasure",
        action: "delete",
        items: [{ k: 1 }, { k: 2 }],
      }),
    };
    // Sealed as lethe seals the intents it writes (an unsealed one is refused as planted).
    await l.state.db
      .insertInto("intents")
      .values({ ...intent, opened_at: new Date().toISOString(), mac: l.ledger.intentMac(intent) })
      .execute();
    await l.close();
    const d = new Database(p.db);
    d.exec("delete from logs where user_id = 'victim'");
    d.close();
    l = await openLethe(join(p.dir, "lethe.yaml"), quiet); // reconciles the crashed batch
    const again = await l.erase("victim", { yes: true });
    expect(again.scrub?.[0]).toMatchObject({ store: "appdb", mode: "vacuum", vacuumed: true, complete: true });
    const next = await l.erase("other", { yes: true }); // owed rewrite done: back to the configured mode
    expect(next.scrub?.[0]).toMatchObject({ mode: "verify" });
    const deleted = (await l.audit.log({ dataset: "logs" })).filter((e) => e.action === "deleted");
    expect(deleted.map((e) => e.key).sort()).toEqual([1, 2, 3]);
    await l.close();
  });

  it("a request whose rows the database refuses to delete fails, and shows them as found and residual", async () => {
    const p = project(
      `create table a (id integer primary key, user_id text, created_at text); create index a_user on a (user_id);
       insert into a (user_id, created_at) values ('u9', '2026-01-01'), ('u9', '2026-01-01'), ('u8', '2026-01-01');
       create trigger a_keep before delete on a begin select raise(ignore); end;`,
      `  a: { store: appdb, table: a, key: id, subject: user_id, createdAt: created_at, retention: 30d }
`,
    );
    const created = (await letheIn(["requests", "create", "u9", "--json"], p.dir)).json as { id: string };
    expect((await letheIn(["requests", "process", created.id, "--json"], p.dir)).code).toBe(1);
    const shown = (await letheIn(["requests", "show", created.id, "--json"], p.dir)).json as {
      status: string;
      datasets: { name: string; found: number; deleted: number; residue: number }[];
    };
    expect(shown.status).toBe("failed");
    expect(shown.datasets).toEqual([expect.objectContaining({ name: "a", found: 2, deleted: 0, residue: 2 })]);
  });
});
