import { describe, expect, it } from "vitest";
import { isKeyName, keyBytes, keyName } from "../../src/stores/redis/key-bytes.js";
import { keyPattern } from "../../src/stores/redis/key-pattern.js";
import { redisPerTest, redisProject } from "./redis-helpers.js";

describe("redis key names: one per key, giving back its exact bytes", () => {
  it("UTF-8 text is its own name; other bytes (and text with NUL or a leading U+FFFD) are named in hex", () => {
    const keys = [
      Buffer.from("c:p:bob:1"),
      Buffer.from([0x63, 0x3a, 0xff, 0xfe]),
      Buffer.from("c:p:caf\xe9", "latin1"),
      Buffer.from("a\0b"),
      Buffer.from("\uFFFDhex:00"),
      Buffer.from("\uFEFFbom"),
    ];
    const names = keys.map(keyName);
    expect(names[0]).toBe("c:p:bob:1");
    expect(names[1]).toBe("\uFFFDhex:633afffe");
    expect(names[5]).toBe("\uFEFFbom");
    expect(new Set(names).size).toBe(keys.length);
    for (const [i, name] of names.entries()) {
      expect(keyBytes(name).equals(keys[i] as Buffer)).toBe(true);
      expect(isKeyName(name)).toBe(true);
    }
    // A spelling that is not a key's one name is owned by no pattern.
    expect(isKeyName("\uFFFDhex:zz")).toBe(false);
    expect(keyPattern("*").owns("\uFFFDhex:zz")).toBe(false);
  });

  it("patterns match bytes as Redis does, and read the subject of a key that is not UTF-8", () => {
    const p = keyPattern("c:p:{subject}:*");
    const name = keyName(Buffer.from("c:p:bob:\xff\xfe", "latin1"));
    expect(p.owns(name)).toBe(true);
    expect(p.subjectOf(name)).toBe("bob");
    expect(p.subjectOf(keyName(Buffer.from("c:p:\xff:1", "latin1")))).toBeUndefined();
    // `?` is one byte, as in Redis: "é" is two.
    expect(keyPattern("x:?").owns("x:é")).toBe(false);
    expect(keyPattern("x:??").owns("x:é")).toBe(true);
  });
});

describe("redis datasets: keys that are not UTF-8", () => {
  const r = redisPerTest();

  const raw = (tail: string) => Buffer.concat([Buffer.from(`${r.prefix}p:bob:`), Buffer.from(tail, "latin1")]);

  it("an erasure finds, deletes and records a subject's keys by their exact bytes; none is left as residue", async () => {
    const odd = [raw("\xff\xfe"), raw("caf\xe9"), raw("a\0b")];
    for (const k of odd) await r.client.set(k, "v");
    await r.client.set(`${r.prefix}p:bob:1`, "v");
    await r.client.set(`${r.prefix}p:alice:1`, "v");
    const l = await r.open(
      redisProject(r.url, `  prompts: { store: cache, pattern: "${r.prefix}p:{subject}:*", retention: 30d }\n`),
    );
    expect((await l.erase("bob")).datasets[0]).toMatchObject({ found: 4 });
    const res = await l.erase("bob", { yes: true });
    expect(res.datasets[0]).toMatchObject({ found: 4, deleted: 4, failed: 0, residue: 0 });
    expect(await r.client.exists([...odd, `${r.prefix}p:bob:1`])).toBe(0);
    expect(await r.client.exists(`${r.prefix}p:alice:1`)).toBe(1);
    const deleted = (await l.audit.log({ subject: "bob" })).filter((e) => e.action === "deleted");
    expect(deleted).toHaveLength(4);
  });

  it("retention counts them and a run deletes them (action: delete)", async () => {
    for (const k of [raw("\xff"), raw("\xfe")]) await r.client.set(k, "v");
    const l = await r.open(
      redisProject(
        r.url,
        `  prompts: { store: cache, pattern: "${r.prefix}p:{subject}:*", retention: 1d, action: delete }\n`,
        "safety: { maxFraction: 1 }\n",
      ),
    );
    expect((await l.plan()).datasets[0]).toMatchObject({ total: 2, expired: 2 });
    expect((await l.apply()).datasets[0]).toMatchObject({ deleted: 2, failed: 0 });
    expect(await r.client.exists([raw("\xff"), raw("\xfe")])).toBe(0);
  });
});
