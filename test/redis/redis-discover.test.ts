import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "redis";
import { afterEach, describe, expect, it, type TestContext } from "vitest";
import { openLethe } from "../../src/lethe.js";
import { tempDir } from "../helpers/cli.js";
import { createTestRedisPrefix, requireService } from "../helpers/services.js";
import { QUIET } from "./redis-helpers.js";

const EMAILS = ["jane.doe@example.com", "bob.smith@example.org", "eve.x@example.net"];
const SUBJECTS = ["alice01", "bob0202"];
/** A database of its own: discover walks the whole keyspace, and other test files share db 0. */
const DB = 7;

describe("lethe discover over a Redis keyspace", () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  /** A project with the Redis store and no dataset: every key is unmapped, so discover judges all of them. */
  async function bareProject(url: string) {
    const dir = tempDir("lethe-redis-discover-");
    writeFileSync(
      join(dir, "lethe.yaml"),
      `version: 1\nstate: ./.lethe\nstores:\n  cache: { kind: redis, url: "${url}" }\ndatasets: {}\n`,
    );
    const l = await openLethe(join(dir, "lethe.yaml"), QUIET);
    cleanup.push(() => l.close());
    return l;
  }

  it("flags keys no subject pattern covers: values the detectors recognise, names holding a dataset's subject ids; never a value", async (ctx) => {
    const { r, url, c } = await prefixedDb(ctx);
    const p = r.prefix;
    for (const s of SUBJECTS) await c.set(`${p}prompt:${s}:1`, `prompt of ${s}`);
    // Beside the dataset: a response cache keyed by the same subject ids, notes and events full of emails.
    for (const s of SUBJECTS) await c.set(`${p}resp:${s}:1`, "ok");
    for (const [i, e] of EMAILS.entries()) await c.hSet(`${p}notes:${i}`, { note: `contact ${e} about the refund` });
    for (const e of EMAILS) await c.xAdd(`${p}events`, "*", { from: e });
    for (let i = 0; i < 3; i++) await c.rPush(`${p}queue:${i}`, [`job ${i}`, "retry"]);
    const dir = tempDir("lethe-redis-discover-");
    writeFileSync(
      join(dir, "lethe.yaml"),
      `version: 1
state: ./.lethe
stores:
  cache: { kind: redis, url: "${url}" }
datasets:
  prompts: { store: cache, pattern: "${p}prompt:{subject}:*", retention: 7d }
`,
    );
    const l = await openLethe(join(dir, "lethe.yaml"), QUIET);
    cleanup.push(() => l.close());
    const res = await l.discover({ sampleSize: 100 });
    const text = JSON.stringify(res);
    for (const raw of [...EMAILS, ...SUBJECTS]) expect(text).not.toContain(raw);
    const found = res.unmapped.map((u) => ({
      table: u.table.split(":").slice(1).join(":"),
      column: u.column,
      type: u.type,
    }));
    expect(found).toEqual(
      expect.arrayContaining([
        { table: "resp:{subject}:*", column: "(key)", type: undefined },
        { table: "notes:*", column: "(value)", type: "email" },
        // The last segment of a name is never shown (`<prefix>:events` is `<prefix>:*`).
        { table: "*", column: "(value)", type: "email" },
      ]),
    );
    expect(found).toHaveLength(3); // the queue holds nothing personal; the dataset's own keys are covered
    const resp = res.unmapped.find((u) => u.column === "(key)");
    expect(resp?.reason).toMatch(/^keys no dataset covers; 2 keys hold subject ids of datasets\.prompts/);
    const notes = res.unmapped.find((u) => u.table.endsWith("notes:*"));
    expect(notes).toMatchObject({ sampled: 3, hits: 3 });
    expect(res.stores).toEqual([{ name: "cache", inspected: true, tables: expect.any(Number) }]);
  });

  /** A client on {@link DB} and a fresh key prefix, whose keys are removed after the test. */
  async function prefixedDb(ctx: TestContext) {
    requireService(ctx, "redis");
    const r = await createTestRedisPrefix();
    cleanup.push(() => r.drop());
    const url = `${r.url}/${DB}`;
    const c = createClient({ url });
    await c.connect();
    cleanup.push(async () => {
      for await (const keys of c.scanIterator({ MATCH: `${r.prefix}*`, COUNT: 1000 }))
        if (keys.length) await c.unlink(keys);
      c.destroy();
    });
    return { r, url, c };
  }

  it("reads every key shape, not the first keys scanned: 40 keys of emails beside 20,000 plain keys are found", async (ctx) => {
    const { r, url, c } = await prefixedDb(ctx);
    const p = r.prefix;
    for (let from = 0; from < 20_000; from += 1000) {
      const m = c.multi();
      for (let i = from; i < from + 1000; i++) m.set(`${p}plain:${i}`, "v");
      await m.exec();
    }
    const m = c.multi();
    for (let i = 0; i < 40; i++) m.set(`${p}pii${i}:x`, `mail m${i}@x.example`);
    await m.exec();
    const l = await bareProject(url);
    // 50 reads per shape: in scan order, 50 of 20,040 keys would almost never reach the 40.
    const res = await l.discover({ sampleSize: 50 });
    const pii = res.unmapped.filter((u) => u.table.endsWith("pii#:*") && u.column === "(value)");
    // The 50 reads are shared in turns by the two shapes: 25 each.
    expect(pii).toEqual([expect.objectContaining({ type: "email", sampled: 25, hits: 25 })]);
  });

  it("collapses a segment of 5,000 distinct ids into one shape with its count, whatever the ids look like; never an id", async (ctx) => {
    const { r, url, c } = await prefixedDb(ctx);
    // Letters only (`idbaax`): no digit run to mask, too short for an identifier, so each id was a shape of its own.
    const letters = (i: number): string =>
      (i < 26 ? "" : letters(Math.floor(i / 26) - 1)) + String.fromCharCode(97 + (i % 26));
    const ids = Array.from({ length: 5000 }, (_, i) => `id${letters(i + 26 * 27)}x`);
    expect(new Set(ids).size).toBe(5000);
    for (let from = 0; from < ids.length; from += 1000) {
      const m = c.multi();
      for (let i = from; i < from + 1000; i++)
        m.set(`${r.prefix}cache:prompt:${ids[i]}:v1`, `asked by m${i}@x.example`);
      await m.exec();
    }
    const l = await bareProject(url);
    const res = await l.discover({ sampleSize: 100 });
    const rows = res.unmapped.filter((u) => u.table.includes("cache:prompt"));
    expect(rows).toEqual([
      expect.objectContaining({
        column: "(value)",
        type: "email",
        distinct: [{ segment: 4, values: 5000 }],
      }),
    ]);
    expect(rows[0]?.table.split(":").slice(1)).toEqual(["cache", "prompt", "*", "*"]);
    expect(rows[0]?.reason).toContain("(the shape's * stand for 5000 distinct values at segment 4)");
    const text = JSON.stringify(res);
    for (const id of [ids[0], ids[1], ids[2500], ids[4999]]) expect(text).not.toContain(id);
    expect(text).not.toMatch(/m\d+@x\.example/);
  });
});
