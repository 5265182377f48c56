import { describe, expect, it } from "vitest";
import { configJsonSchema } from "../../src/config/json-schema.js";
import { parseConfig } from "../../src/config/load.js";
import { ConfigError } from "../../src/core/errors.js";

const cache = { kind: "redis", url: "redis://127.0.0.1:6379/0" };
const base = {
  version: 1,
  stores: { cache, appdb: { kind: "sql", url: "sqlite:./a.db" } },
  datasets: { prompts: { store: "cache", pattern: "cache:prompt:{subject}:*", retention: "7d" } },
};

function issuesOf(cfg: unknown): string[] {
  try {
    parseConfig(cfg, "/tmp");
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues;
  }
  return [];
}

const withDataset = (patch: Record<string, unknown>) => ({
  ...base,
  datasets: { prompts: { ...base.datasets.prompts, ...patch } },
});

describe("config: redis stores and key-pattern datasets", () => {
  it("accepts a redis store; a redis dataset defaults to action expire, others to delete", () => {
    const cfg = parseConfig(
      {
        ...base,
        datasets: {
          ...base.datasets,
          logs: { store: "appdb", table: "logs", key: "id", createdAt: "created_at", retention: "30d" },
        },
      },
      "/tmp",
    );
    expect(cfg.stores.get("cache")).toEqual({ name: "cache", kind: "redis", url: cache.url });
    expect(cfg.datasets.get("prompts")).toMatchObject({ pattern: "cache:prompt:{subject}:*", action: "expire" });
    expect(cfg.datasets.get("logs")?.action).toBe("delete");
    expect(cfg.datasets.get("logs")).not.toHaveProperty("pattern");
  });

  it("resolves a url given as a secret reference", () => {
    process.env.LETHE_TEST_REDIS_SECRET_URL = "redis://:pw@127.0.0.1:6390/2";
    const cfg = parseConfig(
      { ...base, stores: { cache: { kind: "redis", url: "env:LETHE_TEST_REDIS_SECRET_URL" } } },
      "/tmp",
    );
    expect(cfg.stores.get("cache")).toMatchObject({ url: "redis://:pw@127.0.0.1:6390/2" });
    delete process.env.LETHE_TEST_REDIS_SECRET_URL;
  });

  it("names each mistake by its key path", () => {
    expect(issuesOf({ ...base, stores: { cache: { kind: "redis", url: "http://x" } } })).toEqual([
      expect.stringMatching(/^stores\.cache\.url: expected redis:\/\/…/),
    ]);
    expect(issuesOf(withDataset({ pattern: undefined }))).toEqual([
      expect.stringMatching(/^datasets\.prompts\.pattern: required for a redis dataset/),
    ]);
    expect(issuesOf(withDataset({ pattern: "*" }))).toEqual([
      expect.stringMatching(/^datasets\.prompts\.pattern: must contain literal characters/),
    ]);
    expect(issuesOf(withDataset({ pattern: "{subject}" }))).toEqual([
      expect.stringMatching(/^datasets\.prompts\.pattern: must contain literal characters/),
    ]);
    expect(issuesOf(withDataset({ pattern: "a:{subject}:{subject}" }))).toEqual([
      expect.stringMatching(/^datasets\.prompts\.pattern: may contain "\{subject\}" once/),
    ]);
    expect(issuesOf(withDataset({ pattern: "a:[bc:*" }))).toEqual([
      expect.stringMatching(/^datasets\.prompts\.pattern: has an unclosed "\["/),
    ]);
    expect(issuesOf(withDataset({ action: "shred" }))).toEqual([
      expect.stringMatching(/^datasets\.prompts\.action: Redis values cannot be overwritten/),
    ]);
    expect(issuesOf(withDataset({ table: "logs" }))).toEqual([
      expect.stringMatching(/^datasets\.prompts\.table: not for redis datasets/),
    ]);
    expect(issuesOf(withDataset({ retention: { column: "days" } }))).toEqual([
      expect.stringMatching(/^datasets\.prompts\.retention: a per-row retention column needs an sql dataset/),
    ]);
    const sql = { store: "appdb", table: "logs", key: "id", createdAt: "created_at", retention: "30d" };
    expect(issuesOf({ ...base, datasets: { logs: { ...sql, action: "expire" } } })).toEqual([
      expect.stringMatching(/^datasets\.logs\.action: expire \(set a TTL\) is for redis datasets/),
    ]);
    expect(issuesOf({ ...base, datasets: { logs: { ...sql, pattern: "x:*" } } })).toEqual([
      expect.stringMatching(/^datasets\.logs\.pattern: only for redis datasets/),
    ]);
  });

  it("refuses a pattern that could read one key as several subjects' keys, and unknown placeholders", () => {
    const refused = (pattern: string, why: RegExp) =>
      expect(issuesOf(withDataset({ pattern })), pattern).toEqual([
        expect.stringMatching(new RegExp(`^datasets\\.prompts\\.pattern: ${why.source}`)),
      ]);
    // u:ab1 would be subject a, ab and ab1 at once: erasing a deleted a held ab1's key.
    refused("u:{subject}*", /has a glob right after \{subject\}/);
    refused("u:{subject}?:*", /has a glob right after \{subject\}/);
    refused("u:{subject}[:]*", /has a glob right after \{subject\}/);
    refused("t:*:{subject}:*", /has a "\*" before \{subject\}/);
    refused("t:[a{subject}]:*", /has \{subject\} inside a "\[…\]" character class/);
    refused("t:\\{subject}:*", /has a lone "\\" right before \{subject\}/);
    refused("c:{Subject}:*", /has an unknown placeholder "\{Subject\}": the only one is \{subject\}/);
    refused("c:{tenant}:{subject}:*", /has an unknown placeholder "\{tenant\}"/);
    for (const ok of [
      "fv:{subject}",
      "s:{{subject}}:*",
      "c:\\{tenant}:{subject}:*",
      "c:?:[ab]:{subject}\\*x",
      "t:\\*:{subject}:*",
    ])
      expect(issuesOf(withDataset({ pattern: ok })), ok).toEqual([]);
  });

  it("lethe schema describes the redis store, the pattern and the expire action", () => {
    const text = JSON.stringify(configJsonSchema());
    expect(text).toContain('"redis"');
    expect(text).toContain('"pattern"');
    expect(text).toContain('"expire"');
  });
});
