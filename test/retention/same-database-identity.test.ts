import { linkSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { assertNotAliased, sameDatabase, sameSession } from "../../src/core/same-database.js";
import { openLethe } from "../../src/lethe.js";
import { rawPg, rawSqlite } from "../conformance/sql-fixture.js";
import { letheIn, tempDir } from "../helpers/cli.js";
import { seedLogs } from "../helpers/logs-table.js";
import { createTestPgDatabase, requireService } from "../helpers/services.js";
import { logsProject } from "./kill-during-apply.js";

describe("which store is lethe's state database (same-database mode)", () => {
  it("PostgreSQL: query parameters count as the pg client counts them; role and options must match too", () => {
    const base = "postgres://postgres@127.0.0.1:5432/qa";
    expect(sameDatabase(base, "postgres://postgres@127.0.0.1/qa")).toBe(true);
    expect(sameDatabase(base, "postgres://POSTGRES@127.0.0.1:5432/qa")).toBe(true);
    // The client connects to port 6000 / the other socket: another server.
    expect(sameDatabase(base, `${base}?port=6000`)).toBe(false);
    expect(sameDatabase(`${base}?host=otherhost`, base)).toBe(false);
    expect(sameDatabase("postgres://u@/db?host=/run/pg15", "postgres://u@/db?host=/run/pg16")).toBe(false);
    expect(sameDatabase("postgres://u@/db?host=/run/pg15", "postgres://u@/db?host=/run/pg15")).toBe(true);
    // Same database, but not one session's meaning: another role, another search_path.
    expect(sameSession(base, "postgres://app@127.0.0.1:5432/qa")).toBe(false);
    expect(sameSession(base, `${base}?options=-c%20search_path%3Dlethe`)).toBe(false);
    expect(sameSession(base, "postgresql://postgres:secret@127.0.0.1/qa")).toBe(true);
  });

  it("SQLite: a hard link to the state file is refused by name; a symlink is the same database", () => {
    const d = tempDir();
    writeFileSync(join(d, "state.db"), "");
    linkSync(join(d, "state.db"), join(d, "hard.db"));
    const state = `sqlite:${join(d, "state.db")}`;
    expect(sameDatabase(`sqlite:${join(d, "hard.db")}`, state)).toBe(true);
    expect(sameSession(`sqlite:${join(d, "hard.db")}`, state)).toBe(false);
    expect(() => assertNotAliased("app", `sqlite:${join(d, "hard.db")}`, state)).toThrow(
      /stores\.app\.url: the file is a hard link to lethe's state database/,
    );
    expect(() => assertNotAliased("app", state, state)).not.toThrow();
    // A symlink to the file, and the file through a symlinked directory: one real path, so one WAL (SQLite
    // names the WAL after the resolved path). The same database and the same session; not refused.
    symlinkSync(join(d, "state.db"), join(d, "link.db"));
    symlinkSync(d, join(d, "dirlink"));
    for (const link of [join(d, "link.db"), join(d, "dirlink", "state.db"), join(d, "dirlink", "link.db")]) {
      expect(sameDatabase(`sqlite:${link}`, state), link).toBe(true);
      expect(sameSession(`sqlite:${link}`, state), link).toBe(true);
      expect(sameSession(state, `sqlite:${link}`), link).toBe(true);
      expect(() => assertNotAliased("app", `sqlite:${link}`, state)).not.toThrow();
    }
    // A symlink to the hard link is still the hard link: refused.
    symlinkSync(join(d, "hard.db"), join(d, "hardlink.db"));
    expect(sameSession(`sqlite:${join(d, "hardlink.db")}`, state)).toBe(false);
    expect(() => assertNotAliased("app", `sqlite:${join(d, "hardlink.db")}`, state)).toThrow(/hard link/);
  });

  it("openLethe refuses a store that hard-links the state file before touching any data", async () => {
    const dir = tempDir();
    const stateDir = join(dir, ".lethe");
    mkdirSync(stateDir, { mode: 0o700 });
    const path = join(stateDir, "state.db");
    const raw = rawSqlite(path);
    await seedLogs(raw, "sqlite", 50);
    await raw.close();
    linkSync(path, join(dir, "app.db"));
    const p = logsProject(`sqlite:${join(dir, "app.db")}`, stateDir);
    await expect(openLethe(join(p, "lethe.yaml"))).rejects.toMatchObject({ code: "CONFIG_INVALID" });
    const db = new Database(path, { readonly: true });
    expect(db.prepare("select count(*) as n from logs").get()).toEqual({ n: 50 });
    db.close();
  });

  it("PostgreSQL: a store reached as another role in the state's database deletes that role's table, through intents", async (ctx) => {
    requireService(ctx, "pg");
    const db = await createTestPgDatabase();
    const admin = rawPg(db.url);
    const role = `app_${Date.now().toString(36)}${process.pid}`;
    try {
      // public.logs belongs to someone else; the role only reads it and has its own app.logs first on its path.
      await seedLogs(admin, "pg", 100, { users: 7 });
      await admin.exec(`create role ${role} login`);
      await admin.exec(`grant select on public.logs to ${role}`);
      await admin.exec(`create schema ${role} authorization ${role}`);
      const asRole = new URL(db.url);
      asRole.username = role;
      const mine = rawPg(asRole.toString());
      await mine.exec(`set search_path = ${role}`);
      await mine.exec(
        `create table ${role}.logs (id bigint primary key, user_id text, created_at text not null);
         insert into ${role}.logs select g, 'user-' || (g % 7), '2020-01-01 00:00:00' from generate_series(1, 40) g`,
      );
      await mine.close();
      const dir = logsProject(asRole.toString(), db.url);
      const r = await letheIn(["apply", "--force", "--json"], dir);
      expect(r.code, r.stderr).toBe(0);
      expect(Number((await admin.exec(`select count(*) as n from ${role}.logs`))[0]?.n)).toBe(0);
      expect(Number((await admin.exec("select count(*) as n from public.logs"))[0]?.n)).toBe(100);
      expect((await letheIn(["audit", "verify", "--json"], dir)).json).toMatchObject({ ok: true });
    } finally {
      await admin.close();
      await db.drop();
      const cleanup = rawPg(new URL("/postgres", db.url).toString());
      await cleanup.exec(`drop role if exists ${role}`).catch(() => undefined);
      await cleanup.close();
    }
  }, 120_000);
});
