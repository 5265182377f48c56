import { dirname } from "node:path";
import { describe, expect, it } from "vitest";
import { isRedisUrl } from "../../src/config/redis-url.js";
import { lethe } from "../helpers/cli.js";
import { redisPerTest, redisProject } from "./redis-helpers.js";

const prompts = (p: string) => `  prompts: { store: cache, pattern: "${p}p:{subject}:*", retention: 1d }\n`;

describe("a redis store's url", () => {
  it("is a redis:// or rediss:// URL whose path is at most a database number", () => {
    for (const ok of [
      "redis://127.0.0.1:6379",
      "redis://h/",
      "redis://:pw@h:1/15",
      "rediss://u:p@h/2",
      "redis://[::1]/0",
    ])
      expect(isRedisUrl(ok), ok).toBe(true);
    for (const bad of ["redis://h:6379/abc", "redis://h:99999/0", "redis://h/0/x", "redis://h/0?db=1", "http://h/0"])
      expect(isRedisUrl(bad), bad).toBe(false);
  });

  const r = redisPerTest();

  it("a malformed literal url is a configuration error at validate, not a server that is down", () => {
    const dir = dirname(redisProject(`${r.url}/cache`, prompts(r.prefix)));
    const v = lethe(["validate"], dir);
    expect(v.code).toBe(2);
    expect(v.stderr).toContain("stores.cache.url: expected redis://");
  });

  it("a reference holding a malformed url, or a database the server lacks, stops the command with CONFIG_INVALID (exit 2), the secret never shown", async () => {
    await r.client.set(`${r.prefix}p:bob:1`, "v");
    const dir = dirname(redisProject("env:QA_REDIS_URL", prompts(r.prefix)));
    const secret = new URL(r.url);
    secret.username = "default";
    secret.password = "pw-not-shown";
    for (const url of [
      `${secret.toString().replace(/\/$/, "")}/0/extra`,
      `http://default:pw-not-shown@${secret.host}/0`,
    ]) {
      const res = lethe(["apply", "--json", "--force"], dir, { QA_REDIS_URL: url });
      expect(res.code, url).toBe(2);
      expect(res.json).toMatchObject({ error: { code: "CONFIG_INVALID" } });
      expect(res.stdout).toContain("stores.cache.url: env:QA_REDIS_URL does not hold a Redis URL");
      expect(res.stdout + res.stderr).not.toContain("pw-not-shown");
    }
    const res = lethe(["apply", "--json", "--force"], dir, { QA_REDIS_URL: `${r.url}/999` });
    expect(res.code).toBe(2);
    expect(res.json).toEqual({
      error: { code: "CONFIG_INVALID", message: "stores.cache.url: ERR DB index is out of range" },
    });
    expect(await r.client.pTTL(`${r.prefix}p:bob:1`)).toBe(-1); // nothing done
  });
});
