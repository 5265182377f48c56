import { createHmac, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { FastHmac } from "../../src/crypto/fast-hmac.js";

describe("FastHmac", () => {
  it("equals node's HMAC-SHA256 for short, block-sized and long keys and any message", () => {
    for (const len of [1, 16, 32, 63, 64, 65, 200]) {
      const key = randomBytes(len);
      const f = new FastHmac(key);
      for (const msg of ["", "subject\0user-42", "é ü 漢字 🙂", "x".repeat(10_000)]) {
        expect(f.hex(msg)).toBe(createHmac("sha256", key).update(msg).digest("hex"));
      }
    }
  });

  it("matches the RFC 4231 test case 2", () => {
    expect(new FastHmac(Buffer.from("Jefe")).hex("what do ya want for nothing?")).toBe(
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    );
  });
});
