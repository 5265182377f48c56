import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DirAnchor, openBelow } from "../../src/safe-fs/anchor.js";
import { tempDir } from "../helpers/cli.js";

describe("DirAnchor walks with the one anchored walk (walkFrom)", () => {
  it("follows a configured root link, never a link below it, refuses non-names, and caches each directory", () => {
    const base = tempDir();
    mkdirSync(join(base, "root", "users", "alice"), { recursive: true });
    mkdirSync(join(base, "elsewhere"));
    writeFileSync(join(base, "elsewhere", "secret"), "x");
    symlinkSync(join(base, "elsewhere"), join(base, "root", "users", "evil"));
    symlinkSync(join(base, "root"), join(base, "root-link"));
    const a = new DirAnchor(join(base, "root-link"));
    try {
      const alice = a.dir(["users", "alice"]);
      expect(a.dir(["users", "alice"])).toBe(alice);
      expect(a.dir(["users"])).not.toBe(alice);
      expect(() => a.dir(["users", "evil"])).toThrow(/PATH_CHANGED: .*is a symbolic link/);
      for (const bad of [[""], ["."], ["users", ".."], ["a/b"]])
        expect(() => a.dir(bad)).toThrow(/PATH_CHANGED: .*not a plain name/);
    } finally {
      a.close();
    }
    // openBelow does not follow a root link unless asked: the same walk, a stricter root.
    expect(() => openBelow(join(base, "root-link"), [])).toThrow(/PATH_CHANGED/);
  });
});
