import { mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { ConfigError } from "../../src/core/errors.js";
import { letheIn, tempDir, writeConfig } from "../helpers/cli.js";

const config = (root: string, extra = "") => ({
  version: 1,
  stores: { x: { kind: "fs", root, ...(extra ? { allowSystemRoot: true } : {}) } },
  datasets: { d: { store: "x", include: ["**/*.conf"], retention: "30d" } },
});

function issuesOf(root: string, baseDir = "/tmp"): string[] {
  try {
    parseConfig(config(root), baseDir);
    return [];
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues;
  }
}

describe("fs store roots that are system or home directories (issue 10 item 9)", () => {
  it.each([
    "/",
    "/etc",
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib64",
    "/boot",
    "/var",
    "/proc",
    "/sys",
    "/dev",
    "/root",
    "/home",
  ])("refuses %s naming the key path", (root) => {
    const issues = issuesOf(root);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(/^stores\.x\.root: resolves to \/\S*, a system directory/);
  });

  it("refuses spellings that resolve to one: .., trailing slash, a symlink, a relative root", async () => {
    expect(issuesOf("/data/../etc/")).toHaveLength(1);
    expect(issuesOf("../..", "/usr/share")).toHaveLength(1);
    const dir = tempDir();
    symlinkSync("/etc", join(dir, "link"));
    expect(issuesOf(join(dir, "link"))[0]).toContain("resolves to /etc");
    expect(issuesOf("./link", dir)[0]).toContain("resolves to /etc");
  });

  it("refuses a home directory listed in /etc/passwd (root's /root, postgres's home…)", async () => {
    expect(issuesOf("/root")[0]).toMatch(/\/root/);
    expect(issuesOf("/var/lib/postgresql")[0] ?? "").toMatch(/a home directory|a system directory/);
  });

  it("accepts folders below them, and any root with allowSystemRoot: true", async () => {
    expect(issuesOf("/etc/myapp/cache")).toEqual([]);
    expect(issuesOf("/var/lib/lethe-models")).toEqual([]);
    const dir = tempDir();
    mkdirSync(join(dir, "models"));
    expect(issuesOf("./models", dir)).toEqual([]);
    expect(() => parseConfig(config("/etc", "allow"), "/tmp")).not.toThrow();
  });

  it("lethe validate and lethe plan exit 2 naming stores.x.root", async () => {
    const dir = tempDir();
    writeConfig(
      dir,
      `version: 1
stores:
  x: { kind: fs, root: /etc }
datasets:
  d: { store: x, include: ["**/*.conf"], retention: 30d }
`,
    );
    for (const cmd of [["validate"], ["plan"]]) {
      const r = await letheIn(cmd, dir);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("stores.x.root: resolves to /etc, a system directory");
    }
  });
});
