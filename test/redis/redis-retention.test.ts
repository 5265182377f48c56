import { dirname } from "node:path";
import { describe, expect, it } from "vitest";
import { letheIn } from "../helpers/cli.js";
import { REDIS_TYPES, type RedisPrefix, redisPerTest, redisProject, seedRedisKey } from "./redis-helpers.js";

const DAY = 86_400;

/** A lethe over one Redis dataset `prompts` (`<prefix>prompt:{subject}:*`, retention 1d). */
function project(r: RedisPrefix, extra = ""): string {
  return redisProject(
    r.url,
    `  prompts:\n    store: cache\n    pattern: "${r.prefix}prompt:{subject}:*"\n    retention: 1d\n${extra}`,
    "safety: { maxFraction: 1 }\n",
  );
}

/** Keys of every value type: `long` ones have no TTL or ten days, `fresh` ones one hour; bystanders none. */
async function seed(r: RedisPrefix, subjects = ["alice", "bob"]) {
  const long: string[] = [];
  const fresh: string[] = [];
  let n = 0;
  for (const s of subjects)
    for (const t of REDIS_TYPES) {
      const key = `${r.prefix}prompt:${s}:${t}`;
      const ttl = n % 3 === 0 ? 3600 : n % 3 === 1 ? undefined : 10 * DAY;
      await seedRedisKey(r.client, key, REDIS_TYPES.indexOf(t), `body of ${s}`, ttl);
      (ttl === 3600 ? fresh : long).push(key);
      n++;
    }
  const bystanders = [`${r.prefix}other:alice:1`, `${r.prefix}prompt:alice`];
  for (const b of bystanders) await r.client.set(b, "keep");
  return { long: long.sort(), fresh: fresh.sort(), bystanders };
}

async function ttls(r: RedisPrefix, keys: string[]): Promise<number[]> {
  return Promise.all(keys.map((k) => r.client.pTTL(k)));
}

describe("redis datasets: retention as a limit on key lifetimes", () => {
  const r = redisPerTest();

  it("plan reports keys with no TTL or a longer one; apply sets or lowers their TTL (never deletes), one ttl_set entry per key", async () => {
    const k = await seed(r);
    const yaml = project(r);
    const l = await r.open(yaml);
    const plan = await l.plan();
    const noTtl = (await ttls(r, k.long)).filter((t) => t === -1).length;
    expect(plan.datasets).toEqual([
      expect.objectContaining({
        name: "prompts",
        total: 12,
        expired: k.long.length,
        held: 0,
        action: "expire",
        reasons: { "no TTL": noTtl, "TTL longer than the retention": k.long.length - noTtl },
      }),
    ]);
    const text = await letheIn(["plan"], dirname(yaml));
    expect(text.stdout).toContain(`prompts: ${noTtl} no TTL, ${k.long.length - noTtl} TTL longer than the retention`);
    expect(text.stdout).toContain(`0 item(s) would be deleted. ${k.long.length} key(s) would get a TTL`);
    const freshBefore = await ttls(r, k.fresh);
    const res = await l.apply();
    expect(res.datasets[0]).toMatchObject({
      name: "prompts",
      expired: k.long.length,
      ttlSet: k.long.length,
      deleted: 0,
      failed: 0,
    });
    for (const t of await ttls(r, k.long)) {
      expect(t).toBeGreaterThan((DAY - 60) * 1000);
      expect(t).toBeLessThanOrEqual(DAY * 1000);
    }
    // Shorter TTLs are never lengthened; bystanders outside the pattern are untouched.
    for (const [i, t] of (await ttls(r, k.fresh)).entries()) expect(t).toBeLessThanOrEqual(freshBefore[i] as number);
    expect(await ttls(r, k.bystanders)).toEqual([-1, -1]);
    expect(await r.client.exists([...k.long, ...k.fresh])).toBe(12);
    const entries = await l.audit.log({ dataset: "prompts" });
    const set = entries.filter((e) => e.action === "ttl_set");
    expect(set).toHaveLength(k.long.length);
    for (const e of set) {
      expect(e.keyHash).toMatch(/^[0-9a-f]{64}$/);
      expect(e.subjectHash).toBeDefined();
      expect(e.data).toMatchObject({ ttl: DAY });
      expect(JSON.stringify(e)).not.toContain(r.prefix);
    }
    expect(entries.some((e) => e.action === "deleted")).toBe(false);
    // "What happened to this key?" is answered through its HMAC.
    expect((await l.audit.log({ dataset: "prompts", key: k.long[0] })).map((e) => e.action)).toEqual(["ttl_set"]);
    expect((await l.plan()).datasets[0]).toMatchObject({ expired: 0 });
    expect((await l.audit.verify()).ok).toBe(true);
  });

  it("action: delete unlinks the keys over the retention, of every type, and records each as deleted", async () => {
    const k = await seed(r);
    const l = await r.open(project(r, "    action: delete\n"));
    const res = await l.apply();
    expect(res.datasets[0]).toMatchObject({ expired: k.long.length, deleted: k.long.length, failed: 0 });
    expect(res.datasets[0]?.ttlSet).toBeUndefined();
    expect(await r.client.exists(k.long)).toBe(0);
    expect(await r.client.exists([...k.fresh, ...k.bystanders])).toBe(k.fresh.length + 2);
    const deleted = (await l.audit.log({ dataset: "prompts" })).filter((e) => e.action === "deleted");
    expect(deleted).toHaveLength(k.long.length);
  });

  it("a legal hold keeps a subject's keys as they are: no TTL set, each skip recorded as held", async () => {
    const k = await seed(r);
    const l = await r.open(project(r));
    await l.holds.add({ subject: "alice", reason: "litigation" });
    const res = await l.apply();
    const aliceLong = k.long.filter((key) => key.includes(":alice:"));
    expect(res.datasets[0]).toMatchObject({ held: aliceLong.length, ttlSet: k.long.length - aliceLong.length });
    for (const [i, t] of (await ttls(r, aliceLong)).entries())
      expect(t === -1 || t > DAY * 1000, `${aliceLong[i]} kept its lifetime`).toBe(true);
    const held = (await l.audit.log({ subject: "alice" })).filter((e) => e.action === "held");
    expect(held).toHaveLength(aliceLong.length);
  });

  it("the janitor reports keys without a TTL in a retention-managed pattern, and --apply sets one", async () => {
    const k = await seed(r);
    const l = await r.open(project(r));
    const report = await l.janitor();
    const items = report.findings.filter((f) => f.kind === "expired_item");
    expect(items).toHaveLength(k.long.length);
    const noTtl = items.filter((f) => f.reason === "no TTL");
    expect(noTtl.length).toBe((await ttls(r, k.long)).filter((t) => t === -1).length);
    expect(noTtl.length).toBeGreaterThan(0);
    for (const f of items) {
      expect(f.keyHash).toMatch(/^[0-9a-f]{64}$/);
      expect(JSON.stringify(f)).not.toContain(r.prefix);
    }
    const fixed = await l.janitor({ apply: true });
    expect(fixed.datasets[0]).toMatchObject({ ttlSet: k.long.length });
    expect(fixed.findings.filter((f) => f.kind === "expired_item").every((f) => f.fixed)).toBe(true);
    expect(await ttls(r, k.long)).not.toContain(-1);
    expect((await l.janitor()).findings.filter((f) => f.kind === "expired_item")).toEqual([]);
  });
});
