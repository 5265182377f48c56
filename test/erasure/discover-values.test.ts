import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { rawMysql, rawPg } from "../conformance/sql-fixture.js";
import { letheIn, tempDir, writeConfig } from "../helpers/cli.js";
import {
  createTestBucket,
  createTestMysqlDatabase,
  createTestPgDatabase,
  requireService,
} from "../helpers/services.js";

interface Unmapped {
  store: string;
  table: string;
  column: string;
  reason: string;
  type?: string;
  share?: number;
  sampled?: number;
  hits?: number;
  excerpt?: string;
  distinct?: { segment: number; values: number }[];
}

const RAW = ["jane.doe@example.com", "4111 1111 1111 1111", "EMP-123456", "bob.smith@example.org"];
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups) await c().catch(() => undefined);
});

async function discover(dir: string, args: string[] = []) {
  const json = await letheIn(["discover", "--json", ...args], dir);
  const text = await letheIn(["discover", ...args], dir);
  // Output never carries a sampled value: only types, counts and masked excerpts.
  for (const raw of RAW)
    for (const out of [json.stdout, json.stderr, text.stdout, text.stderr]) expect(out).not.toContain(raw);
  return { code: json.code, unmapped: (json.json as { unmapped: Unmapped[] }).unmapped, text: text.stdout };
}

const REDACT = `redact: { patterns: [{ name: employee_id, regex: "EMP-[0-9]{6}" }] }\n`;

/** A feature cache whose innocent-looking `note` column is full of email addresses, beside an ordinary table. */
function notes(i: number): string {
  if (i % 4 === 0) return `contact ${i % 8 === 0 ? RAW[0] : `user${i}@example.net`} about the refund`;
  if (i % 4 === 1) return `user${i}@example.net`;
  return `cached feature vector ${i}`;
}

// Each test runs discover twice (JSON and text) as a process: generous on a loaded machine.
describe("lethe discover reads values", { timeout: 180_000 }, () => {
  it("flags SQLite columns by what the redact detectors find in sampled values, custom patterns included", async () => {
    const dir = tempDir();
    const db = new Database(join(dir, "app.db"));
    db.exec(`create table feature_cache (id integer primary key, note text, payment text, ref text, score integer);
      create table models (id integer primary key, name text, released text);`);
    const ins = db.prepare("insert into feature_cache values (?, ?, ?, ?, ?)");
    db.transaction(() => {
      for (let i = 1; i <= 400; i++)
        ins.run(i, notes(i), i % 2 ? `paid with ${RAW[1]}` : "invoice", i % 3 ? `ticket for ${RAW[2]}` : "none", i);
    })();
    db.prepare("insert into models values (1, 'llama-3-8b', '2026-01-01')").run();
    db.close();
    writeConfig(dir, `version: 1\nstores:\n  appdb: { kind: sql, url: "sqlite:./app.db" }\ndatasets: {}\n${REDACT}`);
    const r = await discover(dir);
    expect(r.code).toBe(1);
    const byColumn = new Map(r.unmapped.map((u) => [`${u.table}.${u.column}`, u]));
    expect([...byColumn.keys()].sort()).toEqual(["feature_cache.note", "feature_cache.payment", "feature_cache.ref"]);
    const note = byColumn.get("feature_cache.note")!;
    expect(note).toMatchObject({ type: "email", sampled: 400 });
    expect(note.share).toBeCloseTo(0.5, 1);
    expect(note.excerpt).toMatch(/^[a-z]\*\*\*@e\*\*\*\.(com|net)$/);
    expect(note.reason).toMatch(/table is not in the data map; \d+ of 400 sampled values look like email addresses/);
    expect(byColumn.get("feature_cache.payment")).toMatchObject({ type: "card", excerpt: "****1111" });
    expect(byColumn.get("feature_cache.ref")).toMatchObject({ type: "employee_id" });
    expect(r.text).toMatch(/feature_cache\s+note\s+email 5\d%/);
    // --sample bounds what is read per column.
    expect((await discover(dir, ["--sample", "20"])).unmapped.find((u) => u.column === "note")?.sampled).toBe(20);
  });

  it("samples PostgreSQL columns at random (TABLESAMPLE on a large table) and judges them the same way", async (ctx) => {
    requireService(ctx, "pg");
    const db = await createTestPgDatabase();
    cleanups.push(db.drop);
    const raw = rawPg(db.url);
    await raw.exec(`create table feature_cache (id bigint primary key, note text, payload jsonb)`);
    // The first 100,000 rows hold nothing: only a random sample reaches the emails in the rest.
    await raw.exec(`insert into feature_cache select g, case when g > 100000 and g % 2 = 0
      then 'mail user' || g || '@example.net' else 'vector ' || g end, jsonb_build_object('n', g)
      from generate_series(1, 200000) g`);
    await raw.exec("analyze feature_cache");
    await raw.close();
    const dir = tempDir();
    writeConfig(dir, `version: 1\nstores:\n  pg: { kind: sql, url: ${JSON.stringify(db.url)} }\ndatasets: {}\n`);
    const r = await discover(dir, ["--sample", "500"]);
    expect(r.code).toBe(1);
    expect(r.unmapped).toEqual([
      expect.objectContaining({ store: "pg", table: "feature_cache", column: "note", type: "email", sampled: 500 }),
    ]);
    expect(r.unmapped[0]?.share).toBeGreaterThan(0.1);
    expect(r.unmapped[0]?.share).toBeLessThan(0.45);
  });

  it("samples MariaDB columns at random (ORDER BY RAND() over a thinned large table) and judges them the same way", async (ctx) => {
    requireService(ctx, "mysql");
    const db = await createTestMysqlDatabase();
    cleanups.push(db.drop);
    const raw = rawMysql(db.url);
    await raw.exec("create table feature_cache (id bigint primary key, note varchar(200), score int)");
    // The first 30,000 rows hold nothing: only a random sample reaches the emails in the rest.
    for (let from = 1; from <= 60_000; from += 5000) {
      const rows = Array.from({ length: 5000 }, (_, i) => {
        const g = from + i;
        return [g, g > 30_000 && g % 2 === 0 ? `mail user${g}@example.net` : `vector ${g}`, g];
      });
      await raw.exec("insert into feature_cache values ?", [rows]);
    }
    await raw.exec("analyze table feature_cache");
    await raw.close();
    const dir = tempDir();
    writeConfig(dir, `version: 1\nstores:\n  my: { kind: sql, url: ${JSON.stringify(db.url)} }\ndatasets: {}\n`);
    const r = await discover(dir, ["--sample", "500"]);
    expect(r.code).toBe(1);
    expect(r.unmapped).toEqual([
      expect.objectContaining({ store: "my", table: "feature_cache", column: "note", type: "email", sampled: 500 }),
    ]);
    expect(r.unmapped[0]?.share).toBeGreaterThan(0.1);
    expect(r.unmapped[0]?.share).toBeLessThan(0.45);
  });

  it("finds fs files outside every dataset's globs: paths holding a subject, text files holding personal data", async () => {
    const dir = tempDir();
    const root = join(dir, "data");
    const put = (rel: string, body: string | Buffer) => {
      mkdirSync(join(root, rel, ".."), { recursive: true });
      writeFileSync(join(root, rel), body);
    };
    for (const u of ["u-1", "u-2", "u-3"]) {
      put(`users/${u}/input.bin`, "weights"); // the dataset's own: found by erasure
      put(`users/${u}/notes.txt`, "no personal data here"); // its subject's, but no glob covers it
    }
    for (let i = 0; i < 3; i++) put(`exports/2026-0${i + 1}/report.csv`, `name,email\njane,${RAW[0]}\nbob,${RAW[3]}\n`);
    put("exports/model.bin", Buffer.concat([Buffer.from([0, 1, 2]), Buffer.from("jane.doe@example.com")])); // binary: not read as text
    put("docs/README.md", "how to run the pipeline");
    writeConfig(
      dir,
      `version: 1
stores:
  files: { kind: fs, root: ./data }
datasets:
  uploads: { store: files, include: ["users/**/*.bin"], subjectFromPath: "users/{subject}/**", retention: 30d }
`,
    );
    const r = await discover(dir);
    expect(r.code).toBe(1);
    expect(r.unmapped.map((u) => [u.table, u.column])).toEqual([
      ["exports/#-#/*.csv", "(content)"],
      ["users/{subject}/*.txt", "(path)"],
    ]);
    expect(r.unmapped[0]).toMatchObject({ type: "email", hits: 3, sampled: 3, share: 1 });
    expect(r.unmapped[0]?.reason).toMatch(/^files no dataset covers; 3 of 3 sampled files look like email addresses/);
    expect(r.unmapped[1]?.reason).toMatch(
      /3 files match datasets\.uploads\.subjectFromPath \(users\/\{subject\}\/\*\*\)/,
    );
    expect(r.text).not.toContain("u-1");
  });

  it("collapses a folder level of 5,000 distinct ids into one shape with its count; the text output shows it, never an id", async () => {
    const dir = tempDir();
    // Letters only (`idbaax`): no digit run to mask, too short for an identifier, so each folder was a shape.
    const letters = (i: number): string =>
      (i < 26 ? "" : letters(Math.floor(i / 26) - 1)) + String.fromCharCode(97 + (i % 26));
    const ids = Array.from({ length: 5000 }, (_, i) => `id${letters(i + 26 * 27)}x`);
    for (const [i, id] of ids.entries()) {
      mkdirSync(join(dir, "data", "cache", id), { recursive: true });
      writeFileSync(join(dir, "data", "cache", id, "prompt.txt"), `asked by m${i}@x.example`);
    }
    writeConfig(dir, "version: 1\nstores:\n  files: { kind: fs, root: ./data }\ndatasets: {}\n");
    const r = await discover(dir, ["--sample", "50"]);
    expect(r.code).toBe(1);
    expect(r.unmapped).toEqual([
      expect.objectContaining({
        table: "cache/*/*.txt",
        column: "(content)",
        type: "email",
        distinct: [{ segment: 2, values: 5000 }],
      }),
    ]);
    expect(r.text).toContain("the shape's * stand for 5000 distinct values at segment 2");
    expect(r.text.split("\n").length).toBeLessThan(20);
    for (const id of [ids[0], ids[2500], ids[4999]]) expect(r.text).not.toContain(id);
    expect(r.text).not.toMatch(/m\d+@x\.example/);
  });

  it("finds S3 objects whose keys or contents hold personal data, under masked key patterns", async (ctx) => {
    requireService(ctx, "s3");
    const b = await createTestBucket();
    cleanups.push(b.drop);
    const put = (Key: string, Body: string) => b.client.send(new PutObjectCommand({ Bucket: b.bucket, Key, Body }));
    await put("app/uploads/u-1/a.bin", "x");
    for (let i = 0; i < 3; i++) await put(`app/dumps/chat-${i}.json`, JSON.stringify({ from: RAW[0], to: RAW[3] }));
    await put(`app/mailbox/${RAW[0]}/profile.txt`, "nothing inside");
    await put(`app/mailbox/${RAW[3]}/profile.txt`, "nothing inside");
    const dir = tempDir();
    writeConfig(
      dir,
      `version: 1
stores:
  blobs: { kind: s3, bucket: ${b.bucket}, prefix: "app/", endpoint: env:LETHE_TEST_S3_ENDPOINT, forcePathStyle: true, region: us-east-1 }
datasets:
  uploads: { store: blobs, include: ["uploads/**"], subjectFromPath: "uploads/{subject}/**", retention: 30d }
`,
    );
    const r = await discover(dir);
    expect(r.code).toBe(1);
    expect(r.unmapped.map((u) => [u.table, u.column, u.type])).toEqual([
      ["dumps/*.json", "(content)", "email"],
      ["mailbox/[EMAIL]/*.txt", "(path)", "email"],
    ]);
    expect(r.unmapped[0]?.reason).toMatch(
      /^objects no dataset covers; 3 of 3 sampled objects look like email addresses/,
    );
    // The excerpt is masked from the address's own start, not from the folder before it.
    expect(r.unmapped[1]?.excerpt).toBe("b***@e***.org"); // bob.smith@…, listed first
  });
});
