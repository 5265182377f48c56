import { writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { lethe, tempDir } from "../helpers/cli.js";

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
  it("residue is checked after every dataset: rows a writer adds to an earlier dataset meanwhile are reported", () => {
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
    const r = lethe(["erase", "u1", "--yes", "--json"], p.dir);
    expect(r.code).toBe(1);
    const a = (r.json as { datasets: { name: string; residue: number }[] }).datasets.find((d) => d.name === "a");
    expect(a?.residue).toBe(1);
  });

  it("subject ids match exactly, even on a NOCASE column: erasing carol leaves Carol and CAROL", () => {
    const p = project(
      `create table ci (id integer primary key, user_id text collate nocase, created_at text);
       create index ci_user on ci (user_id);
       insert into ci (user_id, created_at) values ('carol', '2026-01-01'), ('Carol', '2026-01-01'), ('CAROL', '2026-01-01');`,
      `  ci: { store: appdb, table: ci, key: id, subject: user_id, createdAt: created_at, retention: 30d }
`,
    );
    expect(lethe(["hold", "add", "--subject", "Carol", "--reason", "case"], p.dir).code).toBe(0);
    const dry = lethe(["erase", "carol", "--json"], p.dir);
    expect(dry.json).toMatchObject({ held: 0, datasets: [{ name: "ci", found: 1 }] });
    const r = lethe(["erase", "carol", "--yes", "--json"], p.dir);
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ held: 0, residue: 0, datasets: [{ name: "ci", found: 1, deleted: 1 }] });
    expect(rows(p.db, "select user_id from ci order by id")).toEqual([{ user_id: "Carol" }, { user_id: "CAROL" }]);
  });
});
