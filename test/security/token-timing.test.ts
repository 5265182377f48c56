import { timingSafeEqual } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Lethe } from "../../src/lethe.js";
import { TokenStore } from "../../src/server/tokens.js";
import { makeProject } from "../helpers/project.js";
import { openProject } from "../server/helpers.js";

/** Issue 10, item 12: an unknown token id must cost what a known id with a wrong secret costs. */
describe("token verification takes the same path for unknown and known ids", () => {
  let lethe: Lethe;
  const calls: Array<[number, number]> = [];
  let store: TokenStore;
  beforeAll(async () => {
    lethe = await openProject(makeProject({ logs: 1 }));
    store = new TokenStore(lethe.state, 60_000, (a, b) => {
      calls.push([a.length, b.length]);
      return timingSafeEqual(a, b);
    });
  });
  afterAll(async () => lethe.close());

  it("one constant-time compare of equal-length digests on every path, and one cached lookup", async () => {
    const { token, id } = await store.create(["read"]);
    const wrongSecret = `lethe_${id}_${"A".repeat(43)}`;
    const unknownId = `lethe_${id === "0123456789ab" ? "ba9876543210" : "0123456789ab"}_${"A".repeat(43)}`;
    const perPath: Record<string, Array<[number, number]>> = {};
    for (const [name, t] of [
      ["wrong secret", wrongSecret],
      ["unknown id", unknownId],
      ["malformed", "lethe_nope"],
    ] as const) {
      calls.length = 0;
      expect(await store.verify(t)).toBeUndefined();
      perPath[name] = [...calls];
    }
    expect(perPath["wrong secret"]).toEqual([[32, 32]]);
    expect(perPath["unknown id"]).toEqual([[32, 32]]);
    expect(perPath.malformed).toEqual([[32, 32]]);
    calls.length = 0;
    expect(await store.verify(token)).toEqual({ id, scopes: ["read"] });
    expect(calls).toEqual([[32, 32]]);
  });

  it("an unknown id's lookup is cached like a known one's (no extra state round trip per probe)", async () => {
    const seen = (sink: string[]) => (a: Buffer, b: Buffer) => {
      sink.push(b.toString("hex"));
      return timingSafeEqual(a, b);
    };
    const s1: string[] = [];
    const probing = new TokenStore(lethe.state, 60_000, seen(s1));
    const probe = `lethe_fedcba987654_${"B".repeat(43)}`;
    await probing.verify(probe);
    // Were the negative lookup not cached, the row inserted now would be read by the next probe.
    await lethe.state.db
      .insertInto("api_tokens")
      .values({
        id: "fedcba987654",
        hash: "00".repeat(32),
        scopes: "read",
        label: null,
        created_at: new Date().toISOString(),
        revoked_at: null,
        last_used_at: null,
      })
      .execute();
    await probing.verify(probe);
    expect(s1).toHaveLength(2);
    expect(s1[1]).toBe(s1[0]);
    expect(s1[0]).not.toBe("00".repeat(32));
    const s2: string[] = [];
    await new TokenStore(lethe.state, 60_000, seen(s2)).verify(probe);
    expect(s2).toEqual(["00".repeat(32)]); // a fresh store reads the row
  });
});
