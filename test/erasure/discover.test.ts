import { mkdirSync, renameSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { personalName } from "../../src/core/discover-rules.js";
import { judgeValues } from "../../src/core/discover-values.js";
import { createTextScanner } from "../../src/redact/text-scanner.js";
import { letheIn, tempDir } from "../helpers/cli.js";
import { createTestPgDatabase, requireService } from "../helpers/services.js";
import { config, type ErasureFixture, pgFixture, sqliteFixture } from "./fixture.js";

interface Unmapped {
  store: string;
  table: string;
  column: string;
  reason: string;
}
const opened: ErasureFixture[] = [];
afterEach(() => {
  for (const f of opened.splice(0)) f.app?.close();
});

describe("lethe discover", () => {
  it("finds a table added outside the data map, by column name and by sampled values (exit 1)", async () => {
    const f = sqliteFixture(["ann", "bob"], 2);
    opened.push(f);
    // The data map as configured covers everything: nothing to report.
    const clean = await letheIn(["discover", "--json"], f.dir);
    expect(clean.code).toBe(0);
    expect(clean.json).toMatchObject({ unmapped: [] });

    // Someone adds tables last month.
    f.app?.exec(`create table support_tickets (id integer primary key, customer_email text, body text);
      insert into support_tickets values (1, 'ann@example.com', 'my order'), (2, 'bob@example.org', 'refund');
      create table feedback (id integer primary key, contact text, score integer);
      insert into feedback values (1, 'ann@example.com', 5), (2, 'bob@example.org', 3), (3, 'cid@example.net', 4);
      create table model_versions (id integer primary key, name text, released text);
      insert into model_versions values (1, 'llama-3-8b', '2026-01-01');`);
    const r = await letheIn(["discover", "--json"], f.dir);
    expect(r.code).toBe(1);
    const found = (r.json as { unmapped: Unmapped[] }).unmapped;
    expect(found.map((u) => [u.store, u.table, u.column])).toEqual([
      ["appdb", "feedback", "contact"],
      ["appdb", "support_tickets", "customer_email"],
    ]);
    expect(found[0]?.reason).toMatch(/3 of 3 sampled values look like email addresses/);
    expect(found[1]?.reason).toMatch(/not in the data map; the column name suggests an email address/);
    // Sampled values never reach the output.
    expect(r.stdout).not.toContain("example.com");
    const text = await letheIn(["discover"], f.dir);
    expect(text.stdout).toMatch(/support_tickets\s+customer_email/);

    // Mapping the table with a subject column covers it; the other one is still reported.
    writeFileSync(
      join(f.dir, "lethe.yaml"),
      config(
        "sqlite:./app.db",
        "  tickets: { store: appdb, table: support_tickets, key: id, subject: customer_email, retention: never }\n",
      ),
    );
    const after = await letheIn(["discover", "--json"], f.dir);
    expect((after.json as { unmapped: Unmapped[] }).unmapped.map((u) => u.table)).toEqual(["feedback"]);
  });

  it("flags a mapped table without a subject column: retention reaches it, erasure cannot", async () => {
    const f = sqliteFixture(
      ["ann"],
      1,
      undefined,
      "  metrics: { store: appdb, table: usage_metrics, key: id, createdAt: at, retention: 30d }\n",
    );
    opened.push(f);
    f.app?.exec("create table usage_metrics (id integer primary key, user_id text, at text)");
    const r = await letheIn(["discover", "--json"], f.dir);
    // The config was written before the table existed; re-run now that it does.
    expect(r.code).toBe(1);
    expect((r.json as { unmapped: Unmapped[] }).unmapped).toEqual([
      expect.objectContaining({
        table: "usage_metrics",
        column: "user_id",
        reason: expect.stringMatching(/dataset "metrics" but has no subject column/),
      }),
    ]);
  });

  it("lists every store it could not reach as not inspected, with an error code and no URL, and exits 1", async () => {
    const dir = tempDir();
    new Database(join(dir, "empty.db")).close();
    const yaml = `version: 1
state: ./.lethe
stores:
  cache: { kind: redis, url: "redis://:hunter2@127.0.0.1:1/0" }
  db: { kind: sql, url: "mysql://root:hunter2@127.0.0.1:1/app" }
  pg: { kind: sql, url: "postgres://u:hunter2@127.0.0.1:1/app" }
datasets:
  rc: { store: cache, pattern: "c:p:{subject}:*", retention: 7d }
`;
    writeFileSync(join(dir, "down.yaml"), yaml);
    const r = await letheIn(["discover", "--json", "--config", "down.yaml"], dir);
    expect(r.code).toBe(1);
    expect(r.json).toEqual({
      unmapped: [],
      stores: ["cache", "db", "pg"].map((name) => ({
        name,
        inspected: false,
        reason: "unreachable",
        error: "ECONNREFUSED",
      })),
    });
    const text = await letheIn(["discover", "--config", "down.yaml"], dir);
    expect(text.code).toBe(1);
    expect(text.stdout).not.toMatch(/covered by the data map/);
    expect(text.stdout).toMatch(/^No store could be inspected: nothing was checked\./);
    expect(text.stdout).toContain("cache (unreachable ECONNREFUSED), db (unreachable ECONNREFUSED)");
    for (const out of [r.stdout, text.stdout]) expect(out).not.toMatch(/hunter2|127\.0\.0\.1|redis:|mysql:|postgres:/);

    // One store inspected and clean, one down: not "all covered", still exit 1.
    writeFileSync(
      join(dir, "half.yaml"),
      `version: 1
state: ./.lethe
stores:
  appdb: { kind: sql, url: "sqlite:./empty.db" }
  cache: { kind: redis, url: "redis://127.0.0.1:1/0" }
datasets: {}
`,
    );
    const half = await letheIn(["discover", "--config", "half.yaml"], dir);
    expect(half.code).toBe(1);
    expect(half.stdout).toMatch(
      /^Nothing uncovered found in the stores inspected \(appdb\); the others were not checked\./,
    );
  });

  it("ignores lethe's own tables when a SQLite store is lethe's state file, and still finds the user's", async () => {
    const f = sqliteFixture(["ann", "bob"], 2);
    f.app?.close(); // checkpointed: the file holds everything
    mkdirSync(join(f.dir, ".lethe"), { mode: 0o700 });
    renameSync(f.target, join(f.dir, ".lethe", "state.db"));
    // Spelled differently from the state folder (a symlink to it): the same database all the same.
    symlinkSync(join(f.dir, ".lethe", "state.db"), join(f.dir, "app.db"));
    writeFileSync(join(f.dir, "lethe.yaml"), config("sqlite:./.lethe/state.db"));
    // lethe's own rows can hold what looks like personal data (a token's label is the operator's free text).
    for (const who of ["alice", "bob"]) {
      const t = await letheIn(["token", "create", "--scopes", "read", "--label", `for ${who}@example.com`], f.dir);
      expect(t.code, t.stderr).toBe(0);
    }
    for (const url of ["sqlite:./.lethe/state.db", "sqlite:./app.db"]) {
      writeFileSync(join(f.dir, "lethe.yaml"), config(url));
      const r = await letheIn(["discover", "--json"], f.dir);
      expect(r.json, url).toMatchObject({ unmapped: [] }); // ledger, holds, requests…: lethe's, not user data
      expect(r.code, url).toBe(0);
    }
    const app = new Database(join(f.dir, ".lethe", "state.db"));
    app.exec("create table support_tickets (id integer primary key, customer_email text)");
    app.close();
    const r = await letheIn(["discover", "--json"], f.dir);
    expect(r.code).toBe(1);
    expect((r.json as { unmapped: Unmapped[] }).unmapped.map((u) => [u.table, u.column])).toEqual([
      ["support_tickets", "customer_email"],
    ]);
  });

  it("reads every folder, not the first ones walked: 20 files of emails beside 2,000 plain files are found", async () => {
    const dir = tempDir();
    for (const d of ["logs", "pii"]) mkdirSync(join(dir, "files", d), { recursive: true });
    for (let i = 0; i < 2000; i++) writeFileSync(join(dir, "files", "logs", `${i}.txt`), `line ${i}\n`);
    for (let i = 0; i < 20; i++) writeFileSync(join(dir, "files", "pii", `${i}.txt`), `mail m${i}@x.example\n`);
    writeFileSync(join(dir, "lethe.yaml"), "version: 1\nstores:\n  f: { kind: fs, root: ./files }\ndatasets: {}\n");
    const r = await letheIn(["discover", "--json"], dir);
    expect(r.code).toBe(1);
    expect((r.json as { unmapped: Unmapped[] }).unmapped).toEqual([
      expect.objectContaining({ table: "pii/*.txt", column: "(content)", type: "email", sampled: 20, hits: 20 }),
    ]);
  });

  it("never shows a person's name as a path segment: exports/john.smith and exports/jane.doe are one shape", async () => {
    const dir = tempDir();
    for (const who of ["john.smith", "jane.doe", "a1b2c3d4e5f6a7b8"]) {
      mkdirSync(join(dir, "files", "exports", who), { recursive: true });
      writeFileSync(join(dir, "files", "exports", who, "a.txt"), `a ${who.slice(0, 3)}9@x.example\n`);
    }
    writeFileSync(join(dir, "lethe.yaml"), "version: 1\nstores:\n  f: { kind: fs, root: ./files }\ndatasets: {}\n");
    const r = await letheIn(["discover", "--json"], dir);
    expect((r.json as { unmapped: Unmapped[] }).unmapped.map((u) => u.table)).toEqual(["exports/*/*.txt"]);
    expect(r.stdout).not.toMatch(/john|jane|a1b2/);
  });

  it("refuses --sample outside 1 to 100,000, naming the option's limits", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "lethe.yaml"), "version: 1\nstores: {}\ndatasets: {}\n");
    for (const bad of ["0", "-1", "100001", "1000000000", "1e3", "ten"]) {
      const r = await letheIn(["discover", "--sample", bad], dir);
      expect(r.code, bad).toBe(2);
      expect(r.stderr).toContain(`--sample: expected a whole number from 1 to 100000, got ${bad}`);
    }
    expect((await letheIn(["discover", "--sample", "100000"], dir)).code).toBe(0);
  });

  describe("on PostgreSQL", () => {
    const drops: (() => Promise<void>)[] = [];
    afterAll(async () => {
      for (const d of drops) await d().catch(() => undefined);
    });
    it("finds an unmapped table in another schema and ignores lethe's own state tables in the same database", async (ctx) => {
      requireService(ctx, "pg");
      const db = await createTestPgDatabase();
      drops.push(db.drop);
      const f = await pgFixture(db.url, ["ann", "bob"], 2, undefined, { state: db.url });
      expect((await letheIn(["discover", "--json"], f.dir)).code).toBe(0); // state tables (ledger, holds…) are lethe's, not user data
      const c = new pg.Client({ connectionString: db.url });
      await c.connect();
      await c.query(`create schema crm; create table crm.leads (id bigint primary key, "phoneNumber" text, note text);
        create table public.sessions (id bigint primary key, ip_address text, started timestamptz)`);
      await c.end();
      const r = await letheIn(["discover", "--json"], f.dir);
      expect(r.code).toBe(1);
      expect((r.json as { unmapped: Unmapped[] }).unmapped.map((u) => [u.table, u.column])).toEqual([
        ["crm.leads", "phoneNumber"],
        ["sessions", "ip_address"],
      ]);
    });
  });
});

describe("discover rules", () => {
  it("recognises personal column names in any spelling and leaves ordinary ones alone", async () => {
    for (const n of [
      "user_id",
      "userId",
      "UserID",
      "customer_email",
      "email",
      "phone_number",
      "patient_id",
      "ip_address",
      "ssn",
      "date_of_birth",
      "first_name",
      "customerId",
      "device_id",
    ])
      expect(personalName(n), n).toBeDefined();
    for (const n of [
      "id",
      "model_name",
      "created_at",
      "retention_days",
      "prompt_text",
      "user_agent",
      "account_type",
      "file_path",
      "score",
    ])
      expect(personalName(n), n).toBeUndefined();
  });

  it("judges values with the redact detectors, by share: emails, phones, IPs, cards, custom patterns; not ids or timestamps", async () => {
    const scanner = createTextScanner({ patterns: [{ name: "employee_id", regex: "EMP-\\d{6}" }] });
    const kind = (v: string[]) => judgeValues(v, scanner)?.type;
    expect(kind(["a@b.io", "c@d.org", "e@f.net", "n/a"])).toBe("email");
    expect(kind(["+44 20 7946 0958", "+1 (555) 123-4567", "+49 30 1234567"])).toBe("phone");
    expect(kind(["10.0.0.1", "192.168.1.20", "8.8.8.8"])).toBe("ip");
    expect(kind(["paid with 4111 1111 1111 1111", "4012888888881881", "n/a"])).toBe("card");
    expect(kind(["ref EMP-123456", "EMP-654321"])).toBe("employee_id");
    expect(kind(["1714567890123", "1714567890124", "1714567890125"])).toBeUndefined();
    expect(kind(["2026-01-01 10:00:00", "2026-01-02 10:00:00", "2026-01-03 10:00:00"])).toBeUndefined();
    // One email among many notes is not a column of emails; a free-text column where some notes hold one is.
    expect(kind(["a@b.io", ...Array.from({ length: 40 }, (_, i) => `note ${i}`)])).toBeUndefined();
    const v = judgeValues(["contact jane.doe@example.com", "x", "y", "mail bob@example.org"], scanner);
    expect(v).toMatchObject({ type: "email", hits: 2, sampled: 4, share: 0.5, excerpt: "j***@e***.com" });
  });
});
