import { describe, expect, it } from "vitest";
import { loadConfigFile } from "../../src/config/load.js";
import { redisPerTest, redisProject } from "./redis-helpers.js";

/**
 * A key must belong to one subject only, or a hold on one is bypassed by
 * erasing another: ids the pattern cannot tell apart are refused before
 * anything is stored or deleted, and a key is held by the subject it reads as.
 */
describe("redis datasets: one subject per key", () => {
  const r = redisPerTest();

  const yaml = () =>
    redisProject(
      r.url,
      `  prompts: { store: cache, pattern: "${r.prefix}c:{subject}:*", retention: 30d }
  vectors: { store: cache, pattern: "${r.prefix}v:{subject}", retention: 30d }
`,
    );

  it("refuses a subject id holding the character after {subject}: erase, hold add and requests, before any delete", async () => {
    for (const k of ["c:a:b:x", "c:a:1", "v:a:b"]) await r.client.set(`${r.prefix}${k}`, "v");
    const l = await r.open(yaml());
    const refusal = /^subject: the subject id contains ":", which ends the subject id in datasets\.prompts\.pattern/;
    await expect(l.holds.add({ subject: "a:b", reason: "legal" })).rejects.toMatchObject({
      code: "VALIDATION",
      message: expect.stringMatching(refusal),
      details: { dataset: "prompts" },
    });
    await expect(l.erase("a:b", { yes: true })).rejects.toMatchObject({
      code: "VALIDATION",
      message: expect.stringMatching(refusal),
    });
    await expect(l.requests.create("a:b")).rejects.toMatchObject({ code: "VALIDATION" });
    expect(await r.client.exists([`${r.prefix}c:a:b:x`, `${r.prefix}c:a:1`, `${r.prefix}v:a:b`])).toBe(3);
    // The id is never echoed; a dataset where {subject} ends the pattern reads the whole rest as the id.
    await expect(l.erase("a:b", { yes: true })).rejects.toSatisfy((e: Error) => !e.message.includes("a:b"));
    const only = await l.erase("a:b", { yes: true, datasets: ["vectors"] });
    expect(only.datasets).toMatchObject([{ name: "vectors", deleted: 1, residue: 0 }]);
    expect(await r.client.exists([`${r.prefix}c:a:b:x`, `${r.prefix}c:a:1`])).toBe(2);
  });

  it("refuses the id for a hash-tag pattern's closing brace too", async () => {
    const l = await r.open(
      redisProject(r.url, `  tagged: { store: cache, pattern: "${r.prefix}s:{{subject}}:*", retention: 30d }\n`),
    );
    await expect(l.holds.add({ subject: "a}b", reason: "legal" })).rejects.toThrow(/contains "\}"/);
    await r.client.set(`${r.prefix}s:{bob}:1`, "v");
    const res = await l.erase("bob", { yes: true });
    expect(res.datasets).toMatchObject([{ name: "tagged", deleted: 1, residue: 0 }]);
  });

  it("holds a key by the subject it reads as, whatever subject the erasure asked for", async () => {
    // A pattern validation now refuses, forced in: "t:x:a:b:1" matches the SCAN for a and reads as b's.
    const config = loadConfigFile(yaml());
    const prompts = config.datasets.get("prompts");
    if (!prompts) throw new Error("no prompts dataset");
    config.datasets.set("prompts", { ...prompts, pattern: `${r.prefix}t:*:{subject}:*` });
    const key = `${r.prefix}t:x:a:b:1`;
    await r.client.set(key, "v");
    const l = await r.open(config);
    await l.holds.add({ subject: "b", reason: "legal" });
    const res = await l.erase("a", { yes: true, datasets: ["prompts"] });
    expect(res.datasets).toMatchObject([{ name: "prompts", found: 1, held: 1, deleted: 0 }]);
    expect(await r.client.exists(key)).toBe(1);
  });
});
