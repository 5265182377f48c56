import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { sharedKey } from "../../src/config/redis-pattern-overlap.js";
import { lethe, tempDir } from "../helpers/cli.js";
import { redisPerTest, redisProject } from "./redis-helpers.js";

describe("redis datasets of one store never share a key", () => {
  it("finds a key two patterns both match, byte by byte as SCAN MATCH does, and none when they cannot meet", () => {
    expect(sharedKey("user:{subject}:*", "user:profile:{subject}")).toBe("user:profile:x");
    expect(sharedKey("tmp:*", "tmp:{subject}")).toBe("tmp:x");
    expect(sharedKey("c:[ab]?:{subject}", "c:b[^x]:{subject}")).toBeDefined();
    expect(sharedKey("c:a:{subject}", "c:b:{subject}")).toBeUndefined();
    expect(sharedKey("c:[ab]:{subject}", "c:[cd]:{subject}")).toBeUndefined();
    expect(sharedKey("user:s:{subject}:*", "user:profile:{subject}")).toBeUndefined();
    expect(sharedKey("c:\\*:{subject}", "c:x:{subject}")).toBeUndefined(); // an escaped * is literal
    expect(sharedKey("fv:{subject}", "fv:")).toBeUndefined(); // {subject} is at least one byte
    expect(sharedKey("é:{subject}", "?:{subject}")).toBeUndefined(); // é is two bytes, ? one
    expect(sharedKey("é:{subject}", "??:{subject}")).toBe("é:x");
  });

  const r = redisPerTest();

  it("refuses them at load, so erasing the subject 'profile' cannot delete a held subject's profile key", async () => {
    const yaml = redisProject(
      r.url,
      `  sessions: { store: cache, pattern: "${r.prefix}user:{subject}:*", retention: 7d }
  profiles: { store: cache, pattern: "${r.prefix}user:profile:{subject}", retention: 30d }
`,
    );
    const dir = dirname(yaml);
    await r.client.set(`${r.prefix}user:profile:bob`, "bob's profile");
    expect(lethe(["hold", "add", "--subject", "bob", "--reason", "legal"], dir).code).toBe(2);
    const v = lethe(["validate"], dir);
    expect(v.code).toBe(2);
    expect(v.stderr).toContain("datasets.profiles.pattern: matches keys that datasets.sessions.pattern matches too");
    const e = lethe(["erase", "profile", "--yes", "--json"], dir);
    expect(e.code).toBe(2);
    expect(e.json).toMatchObject({ error: { code: "CONFIG_INVALID" } });
    expect(e.stderr).not.toMatch(/\n\s+at /); // no stack
    expect(await r.client.exists(`${r.prefix}user:profile:bob`)).toBe(1);
  });

  it("also across two stores spelled with the same url (one database), and not across different databases", () => {
    const twoStores = (url2: string) => {
      const dir = tempDir("lethe-redis-");
      writeFileSync(
        join(dir, "lethe.yaml"),
        `version: 1
state: ./.lethe
stores:
  cache: { kind: redis, url: "${r.url}/0" }
  cache2: { kind: redis, url: "${url2}" }
datasets:
  a: { store: cache, pattern: "${r.prefix}t:*", retention: 7d }
  b: { store: cache2, pattern: "${r.prefix}t:{subject}", retention: 7d }
`,
      );
      return lethe(["validate"], dir);
    };
    const same = twoStores(`${r.url}/0`);
    expect(same.code).toBe(2);
    expect(same.stderr).toContain("datasets.b.pattern: matches keys that datasets.a.pattern matches too");
    expect(twoStores(`${r.url}/1`).code).toBe(0);
  });

  it("accepts datasets whose literal parts differ", () => {
    const yaml = redisProject(
      r.url,
      `  sessions: { store: cache, pattern: "${r.prefix}user:s:{subject}:*", retention: 7d }
  profiles: { store: cache, pattern: "${r.prefix}user:profile:{subject}", retention: 30d }
`,
    );
    expect(lethe(["validate"], dirname(yaml)).code).toBe(0);
  });
});
