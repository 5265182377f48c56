import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { jsonText, plain, table, terminalText } from "../../src/cli/format.js";
import { createLogger } from "../../src/redact/logger.js";
import { letheIn, tempDir, writeConfig } from "../helpers/cli.js";
import { ts } from "../helpers/project.js";

const ESC = "\x1b";
const BEL = "\x07";
// Anything a terminal acts on: C0 (a newline aside, checked separately), DEL, C1.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const ACTIVE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

describe("names read from stores cannot drive the terminal", () => {
  it("plain() escapes every control character, newlines included; terminalText() keeps lethe's own newlines", () => {
    expect(plain(`t${ESC}[31mRED${ESC}[0m`)).toBe("t\\e[31mRED\\e[0m");
    expect(plain(`k${ESC}]0;pwned${BEL}:\nFAKE`)).toBe("k\\e]0;pwned\\x07:\\nFAKE");
    expect(plain("a\x9b31mb\x7fc\u2028d\u202ee")).toBe("a\\x9b31mb\\x7fc\\u2028d\\u202ee");
    expect(terminalText(`line 1\nline ${ESC}[2J2\r`)).toBe("line 1\nline \\e[2J2\\r");
    expect(
      table([
        ["a", "b"],
        [`x\nFAKE LINE`, 1],
      ]).split("\n"),
    ).toEqual([`${"a".padEnd(12)}  b`, "x\\nFAKE LINE  1"]);
  });

  it("discover's human output shows escaped table names, directory names and keys, one row per line", async () => {
    const dir = tempDir();
    const db = new Database(join(dir, "app.db"));
    db.exec(`create table "t${ESC}[31mRED${ESC}[0m" (id integer primary key, note text)`);
    db.exec(`insert into "t${ESC}[31mRED${ESC}[0m" values (1, 'm1@x.example'), (2, 'm2@x.example')`);
    db.close();
    for (const d of [`d${ESC}[1mB`, `k${ESC}]0;pwned${BEL}\nFAKE LINE all covered`]) {
      mkdirSync(join(dir, "files", d), { recursive: true });
      for (const f of ["1.txt", "2.txt"]) writeFileSync(join(dir, "files", d, f), "a@x.example\n");
    }
    writeConfig(
      dir,
      `version: 1\nstores:\n  db: { kind: sql, url: "sqlite:./app.db" }\n  f: { kind: fs, root: ./files }\ndatasets: {}\n`,
    );
    const r = await letheIn(["discover"], dir);
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).not.toMatch(ACTIVE);
    expect(r.stdout).toContain("t\\e[31mRED\\e[0m");
    expect(r.stdout).toContain("d\\e[#mB/*.txt");
    expect(r.stdout).toContain("k\\e]#;pwned\\x07\\nFAKE LINE all covered/*.txt");
    expect(r.stdout.split("\n").some((l) => l.startsWith("FAKE LINE"))).toBe(false);
  });

  it("scan-logs shows a hostile file name escaped", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, `log${ESC}[2J\nFAKE.txt`), "mail a@x.example\n");
    const r = await letheIn(["scan-logs", dir], dir);
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).not.toMatch(ACTIVE);
    expect(r.stdout).toContain("log\\e[2J\\nFAKE.txt");
  });
});

describe("streamed outputs and logs escape what a terminal acts on (the one rule in src/core/terminal-text.ts)", () => {
  // What JSON.stringify leaves raw and a terminal still acts on: DEL, C1 (U+009B is a CSI), bidi overrides.
  const RAW_IN_JSON = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

  it("jsonText escapes them as \\u escapes, so the line parses to the very same value", () => {
    const value = { key: `a\u009b2Jb\u202ec\u007f${ESC}[0m` };
    const line = jsonText(`${JSON.stringify(value)}\n`);
    expect(line).not.toMatch(RAW_IN_JSON);
    expect(line).not.toMatch(ACTIVE);
    expect(line).toBe('{"key":"a\\u009b2Jb\\u202ec\\u007f\\u001b[0m"}\n');
    expect(JSON.parse(line)).toEqual(value);
  });

  it("the serve logger writes a hostile URL or name escaped, on one line, with the same value when parsed", () => {
    const lines: string[] = [];
    const log = createLogger({
      destination: new Writable({
        write(chunk, _enc, cb) {
          lines.push(String(chunk));
          cb();
        },
      }),
    });
    const url = `/v1/x\u009b2J\u202eFAKE\n{"level":60,"msg":"forged"}`;
    log.info({ url, store: `s${ESC}]0;pwned${BEL}` }, `request %s done\u0085`, `r\u2028x`);
    expect(lines).toHaveLength(1);
    const line = lines[0] as string;
    expect(line.endsWith("\n")).toBe(true);
    expect(line.slice(0, -1)).not.toMatch(ACTIVE);
    expect(line).not.toMatch(/\n./);
    expect(line).not.toMatch(RAW_IN_JSON);
    const parsed = JSON.parse(line) as { url: string; store: string; msg: string };
    expect(parsed.url).toBe(url);
    expect(parsed.store).toBe(`s${ESC}]0;pwned${BEL}`);
    expect(parsed.msg).toBe("request r\u2028x done\u0085");
  });

  it("audit export: CSV cells are escaped and formula-guarded, jsonl lines keep the exact values", async () => {
    const dir = tempDir();
    const db = new Database(join(dir, "app.db"));
    // The erasure request's reason is recorded as given (keys of text rows only as tags): a hostile carrier.
    db.exec("create table t (id integer primary key, user_id text, created_at text not null)");
    db.prepare("insert into t values (1, 'u1', ?)").run(ts(new Date()));
    db.close();
    writeConfig(
      dir,
      `version: 1\nstate: ./.lethe\nstores:\n  db: { kind: sql, url: "sqlite:./app.db" }\ndatasets:\n  t: { store: db, table: t, key: id, subject: user_id, createdAt: created_at, retention: 30d }\n`,
    );
    const reason = `=cmd|' /C calc'!A0${ESC}[2J\u009bq\nFAKE`;
    expect((await letheIn(["erase", "u1", "--yes", "--reason", reason], dir)).code).toBe(0);
    const csv = await letheIn(["audit", "export", "--format", "csv"], dir);
    expect(csv.code).toBe(0);
    expect(csv.stdout).not.toMatch(ACTIVE);
    expect(csv.stdout).not.toMatch(RAW_IN_JSON);
    const rows = csv.stdout.trim().split("\n");
    expect(rows.some((r) => r.startsWith("FAKE"))).toBe(false);
    // The reason cell: formula-guarded with a leading ', controls shown escaped.
    expect(csv.stdout).toContain(`,'=cmd|' /C calc'!A0\\e[2J\\x9bq\\nFAKE,`);
    // No cell of any row starts a formula (a naive split is enough: no guarded cell holds a comma).
    for (const r of rows.slice(1)) for (const c of r.split(",")) expect(c).not.toMatch(/^[=+\-@\t\r]/);
    const jl = await letheIn(["audit", "export"], dir);
    expect(jl.stdout).not.toMatch(RAW_IN_JSON);
    const exported = jl.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { reason?: string });
    expect(exported.some((e) => e.reason === reason)).toBe(true);
  });

  it("demo: a hostile --dir is shown escaped in the streamed story", async () => {
    const dir = join(tempDir(), `demo${ESC}]0;pwned${BEL}\u009b2J`);
    const r = await letheIn(["demo", "--dir", dir], process.cwd());
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(ACTIVE);
    expect(r.stdout).toContain("demo\\e]0;pwned\\x07\\x9b2J");
  });
});
