import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { SqlitePages } from "../../src/stores/sql/sqlite-pages.js";
import { scanFile } from "../../src/stores/sql/sqlite-scan.js";
import { tempDir } from "../helpers/cli.js";

const b = (s: string) => Buffer.from(s);

describe("scanFile", () => {
  it("finds every occurrence, across read boundaries, with regex metacharacters, each once", () => {
    const d = tempDir();
    const big = Buffer.alloc((16 << 20) + 100, 0x61);
    const straddle = (16 << 20) - 5;
    b("needle(1)+[x]").copy(big, straddle);
    b("second.*needle").copy(big, 10);
    b("second.*needle").copy(big, 1000);
    writeFileSync(join(d, "f"), big);
    const hits: [number, number][] = [];
    const bytes = scanFile(join(d, "f"), [b("needle(1)+[x]"), b("second.*needle"), b("absent")], (o, l) =>
      hits.push([o, l]),
    );
    expect(bytes).toBe(big.length);
    expect(hits.sort((x, y) => x[0] - y[0])).toEqual([
      [10, 14],
      [1000, 14],
      [straddle, 13],
    ]);
    expect(scanFile(join(d, "missing"), [b("x")], () => undefined)).toBe(0);
  });

  it("reports overlapping occurrences", () => {
    const d = tempDir();
    writeFileSync(join(d, "f"), "xxabcabcabyy");
    const hits: number[] = [];
    scanFile(join(d, "f"), [b("abcab")], (o) => hits.push(o));
    expect(hits).toEqual([2, 5]);
  });
});

describe("SqlitePages", () => {
  const locate = (path: string, value: string) => readFileSync(path).indexOf(value);

  it("tells live cells from free space and freelist pages", () => {
    const path = join(tempDir(), "p.db");
    const db = new Database(path);
    db.pragma("secure_delete = OFF");
    db.exec("create table t (id integer primary key, v text); create table gone (id integer primary key, v text)");
    db.prepare("insert into t values (1, ?), (2, ?)").run("LIVE-VALUE-0123456789", "DELETED-VALUE-0123456789");
    db.prepare("insert into gone values (1, ?)").run("DROPPED-TABLE-VALUE-987");
    db.exec("delete from t where id = 2; drop table gone");
    db.close();
    const pages = new SqlitePages(path);
    try {
      const live = locate(path, "LIVE-VALUE-0123456789");
      const deleted = locate(path, "DELETED-VALUE-0123456789");
      const dropped = locate(path, "DROPPED-TABLE-VALUE-987");
      expect([live, deleted, dropped].every((o) => o > 0)).toBe(true); // the stale bytes really are there
      expect(pages.isLive(live, 21)).toBe(true);
      expect(pages.isLive(deleted, 24)).toBe(false); // a freeblock in a live page
      expect(pages.isLive(dropped, 23)).toBe(false); // a page on the freelist
      expect(pages.isLive(live - 2, 25)).toBe(false); // not wholly inside one cell
    } finally {
      pages.close();
    }
  });
});
