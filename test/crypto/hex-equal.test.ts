import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { hexEqual } from "../../src/crypto/hex-equal.js";

describe("hexEqual (every sealed row's MAC check)", () => {
  const mac = createHmac("sha256", "k").update("m").digest("hex");
  it("accepts only the same lowercase hex", () => {
    expect(hexEqual(mac, mac)).toBe(true);
    expect(hexEqual(mac, `${mac.slice(0, -1)}${mac.endsWith("0") ? "1" : "0"}`)).toBe(false);
    expect(hexEqual(mac, mac.toUpperCase())).toBe(false);
    expect(hexEqual(mac, mac.slice(0, 62))).toBe(false);
    expect(hexEqual(mac, `${mac.slice(0, 62)}zz`)).toBe(false);
    expect(hexEqual(mac, null)).toBe(false);
    expect(hexEqual(mac, "")).toBe(false);
  });
});
