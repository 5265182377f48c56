import { dirname } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openLethe } from "../../src/lethe.js";
import { lethe } from "../helpers/cli.js";
import { createTestRedisPrefix, requireService } from "../helpers/services.js";
import { QUIET, redisProject } from "./redis-helpers.js";

/** The commands docs/redis.md tells operators to grant (discover's value reads left out). */
const GRANTS = ["+scan", "+eval", "+pttl", "+pexpire", "+pexpiretime", "+unlink", "+info", "+select"];

describe("a least-privilege Redis user (docs/redis.md)", () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it("is enough for plan, apply (expire and delete) and erasure, on its own key prefix only", async (ctx) => {
    requireService(ctx, "redis");
    const r = await createTestRedisPrefix();
    cleanup.push(() => r.drop());
    const user = `lethe-acl-${r.prefix.replace(/[^A-Za-z0-9]/g, "")}`;
    await r.client.sendCommand(["ACL", "SETUSER", user, "on", ">pw-acl-test", `~${r.prefix}*`, ...GRANTS]);
    cleanup.push(async () => {
      await r.client.sendCommand(["ACL", "DELUSER", user]);
    });
    for (const s of ["alice", "bob"]) for (const n of [1, 2]) await r.client.set(`${r.prefix}p:${s}:${n}`, "x");
    for (const n of [1, 2]) await r.client.set(`${r.prefix}f:${n}`, "x");
    const url = new URL(r.url);
    url.username = user;
    url.password = "pw-acl-test";
    const yaml = redisProject(
      url.toString(),
      `  prompts: { store: cache, pattern: "${r.prefix}p:{subject}:*", retention: 1d }
  features: { store: cache, pattern: "${r.prefix}f:*", retention: 1d, action: delete }
`,
      "safety: { maxFraction: 1 }\n",
    );
    const l = await openLethe(yaml, QUIET);
    cleanup.push(() => l.close());
    const res = await l.apply();
    expect(res.datasets.map((d) => [d.name, d.ttlSet ?? 0, d.deleted, d.failed])).toEqual([
      ["prompts", 4, 0, 0],
      ["features", 0, 2, 0],
    ]);
    const erased = await l.erase("alice", { yes: true });
    expect(erased.datasets[0]).toMatchObject({ deleted: 2, residue: 0, failed: 0 });
    expect(await r.client.exists([`${r.prefix}p:bob:1`, `${r.prefix}p:bob:2`])).toBe(2);
  });

  it("reaches a database other than /0 with those grants; without +select the missing command is named", async (ctx) => {
    requireService(ctx, "redis");
    const r = await createTestRedisPrefix();
    cleanup.push(() => r.drop());
    const user = `lethe-acl-db-${r.prefix.replace(/[^A-Za-z0-9]/g, "")}`;
    await r.client.sendCommand(["ACL", "SETUSER", user, "on", ">pw-acl-test", `~${r.prefix}*`, ...GRANTS]);
    cleanup.push(async () => {
      await r.client.sendCommand(["ACL", "DELUSER", user]);
    });
    const url = new URL(r.url);
    url.username = user;
    url.password = "pw-acl-test";
    url.pathname = "/1";
    const dataset = `  prompts: { store: cache, pattern: "${r.prefix}p:{subject}:*", retention: 1d }\n`;
    const l = await openLethe(redisProject(url.toString(), dataset), QUIET);
    cleanup.push(() => l.close());
    expect((await l.plan()).datasets[0]).toMatchObject({ name: "prompts", total: 0 });
    await r.client.sendCommand(["ACL", "SETUSER", user, "-select"]);
    const refused = lethe(["plan", "--json"], dirname(redisProject(url.toString(), dataset)));
    expect(refused.code).toBe(2);
    expect(refused.json).toEqual({
      error: {
        code: "CONFIG_INVALID",
        message: "stores.cache.url: NOPERM this user has no permissions to run the SELECT command",
      },
    });
  });
});
