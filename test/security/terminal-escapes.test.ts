import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { plain, table, terminalText } from "../../src/cli/format.js";
import { letheIn, tempDir, writeConfig } from "../helpers/cli.js";

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
