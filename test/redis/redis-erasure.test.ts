import { describe, expect, it } from "vitest";
import { REDIS_TYPES, type RedisPrefix, redisPerTest, redisProject, seedRedisKey } from "./redis-helpers.js";

/** Totals over a single-subject erasure's datasets. */
function totals(res: {
  datasets: { found: number; deleted: number; held: number; failed: number; residue: number }[];
}) {
  const sum = (k: "found" | "deleted" | "held" | "failed" | "residue") => res.datasets.reduce((n, d) => n + d[k], 0);
  return {
    found: sum("found"),
    deleted: sum("deleted"),
    held: sum("held"),
    failed: sum("failed"),
    residue: sum("residue"),
  };
}

function project(r: RedisPrefix): string {
  return redisProject(
    r.url,
    `  prompts: { store: cache, pattern: "${r.prefix}prompt:{subject}:*", retention: 30d, batchSize: 2 }
  vectors: { store: cache, pattern: "${r.prefix}vec:{subject}", retention: 30d }
`,
  );
}

/** Every value type for each subject, in both datasets. */
async function seed(r: RedisPrefix, subjects: string[]): Promise<Map<string, string[]>> {
  const keys = new Map<string, string[]>();
  for (const s of subjects) {
    const mine = REDIS_TYPES.map((t) => `${r.prefix}prompt:${s}:${t}`);
    for (const [i, k] of mine.entries()) await seedRedisKey(r.client, k, i, `secret of ${s}`);
    mine.push(`${r.prefix}vec:${s}`);
    await seedRedisKey(r.client, `${r.prefix}vec:${s}`, 1, "0.1,0.2");
    keys.set(s, mine);
  }
  return keys;
}

describe("redis datasets: erasure", () => {
  const r = redisPerTest();

  it("a subject holding glob characters (* ? [ ] \\) erases only its own keys, never everyone's", async () => {
    const subjects = ["*", "a*", "a?c", "[ab]", "x\\y", "abc", "a", "b"];
    const keys = await seed(r, subjects);
    const l = await r.open(project(r));
    for (const s of ["*", "a*", "a?c", "[ab]", "x\\y"]) {
      const res = await l.erase(s, { yes: true });
      expect(totals(res), s).toMatchObject({ found: 7, deleted: 7, residue: 0, failed: 0 });
      expect(await r.client.exists(keys.get(s) as string[]), s).toBe(0);
    }
    for (const s of ["abc", "a", "b"]) expect(await r.client.exists(keys.get(s) as string[]), s).toBe(7);
    const deleted = (await l.audit.log({ subject: "a*" })).filter((e) => e.action === "deleted");
    expect(deleted).toHaveLength(7);
    for (const e of deleted) expect(JSON.stringify(e)).not.toContain(r.prefix);
  });

  it("a dry run counts without deleting; a held subject's keys stay and each is recorded as held", async () => {
    const keys = await seed(r, ["alice", "bob"]);
    const l = await r.open(project(r));
    const dry = await l.erase("alice");
    expect(dry.dryRun).toBe(true);
    expect(totals(dry).found).toBe(7);
    expect(await r.client.exists(keys.get("alice") as string[])).toBe(7);
    await l.holds.add({ subject: "alice", reason: "litigation" });
    const res = await l.erase("alice", { yes: true });
    expect(totals(res)).toMatchObject({ held: 7, deleted: 0, residue: 0 });
    expect(await r.client.exists(keys.get("alice") as string[])).toBe(7);
    expect((await l.audit.log({ subject: "alice" })).filter((e) => e.action === "held")).toHaveLength(7);
    const bob = await l.erase("bob", { yes: true });
    expect(totals(bob)).toMatchObject({ deleted: 7, residue: 0 });
    expect(await r.client.exists(keys.get("bob") as string[])).toBe(0);
  });

  it("an inference-complete event deletes the listed keys at once (not a TTL), and refuses keys outside the pattern", async () => {
    const keys = await seed(r, ["carol", "dave"]);
    const yaml = redisProject(
      r.url,
      `  prompts: { store: cache, pattern: "${r.prefix}prompt:{subject}:*", retention: 30d, events: true }\n`,
    );
    const l = await r.open(yaml);
    const [a, b] = keys.get("carol") as string[];
    const res = await l.complete({
      requestId: "req-redis-1",
      artifacts: [
        { dataset: "prompts", key: a as string },
        { dataset: "prompts", key: b as string },
      ],
    });
    expect(res.result?.datasets).toEqual([
      { name: "prompts", requested: 2, deleted: 2, missing: 0, held: 0, failed: 0 },
    ]);
    expect(await r.client.exists([a as string, b as string])).toBe(0);
    expect(await r.client.exists(keys.get("dave") as string[])).toBe(7);
    await expect(
      l.complete({ requestId: "req-redis-2", artifacts: [{ dataset: "prompts", key: `${r.prefix}other:dave` }] }),
    ).rejects.toThrow(/not an item of dataset "prompts" \(not matched by its key pattern\)/);
  });
});
