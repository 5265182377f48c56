import { describe, expect, it } from "vitest";
import { MARKERS } from "../../src/redact/markers.js";
import { createRedactor, redact } from "../../src/redact/redactor.js";

const EMAIL = "jane.doe@example.com";
const CARD = "4111 1111 1111 1111";

describe("redact(): keys and contents", () => {
  it("replaces sensitive keys case-insensitively, whatever the value", () => {
    const out = redact({
      PASSWORD: "a",
      Authorization: "Bearer x",
      "X-Api-Key": 123,
      "set-cookie": ["a=b"],
      apiKey: { nested: true },
      prompt: "my diagnosis",
      response_text: "...",
      access_token: "t",
      prompt_tokens: 12,
      tokens: 5,
      user: "bob",
    });
    expect(out).toEqual({
      PASSWORD: "[REDACTED]",
      Authorization: "[REDACTED]",
      "X-Api-Key": "[REDACTED]",
      "set-cookie": "[REDACTED]",
      apiKey: "[REDACTED]",
      prompt: "[REDACTED]",
      response_text: "[REDACTED]",
      access_token: "[REDACTED]",
      prompt_tokens: 12,
      tokens: 5,
      user: "bob",
    });
  });

  it("replaces detected spans inside strings, at any depth", () => {
    const out = redact({ a: [[[`mail ${EMAIL}`]], [{ b: `card ${CARD}` }]], c: `from 10.1.2.3` });
    expect(out).toEqual({ a: [[["mail [EMAIL]"]], [{ b: "card [CARD]" }]], c: "from [IP]" });
  });

  it("redacts keys that are themselves personal data", () => {
    expect(redact({ [EMAIL]: 1, "kim@example.org": 2 })).toEqual({ "[EMAIL]": 1, "[EMAIL]#2": 2 });
  });

  it("catches card numbers stored as numbers", () => {
    expect(redact({ n: 4111111111111111, big: 4111111111111111n, id: 1714567890123, small: 42 })).toEqual({
      n: "[CARD]",
      big: "[CARD]",
      id: 1714567890123,
      small: 42,
    });
  });

  it("takes extra keys and patterns", () => {
    const r = createRedactor({ keys: ["diagnosis"], patterns: [{ name: "mrn", regex: "MRN-\\d{6}" }] });
    expect(r.redact({ patient_diagnosis: "flu", note: "see MRN-123456" })).toEqual({
      patient_diagnosis: "[REDACTED]",
      note: "see [MRN]",
    });
  });
});

describe("redact(): containers", () => {
  it("walks Maps and Sets, keeping their types", () => {
    const out = redact(
      new Map<unknown, unknown>([
        ["token", "abc"],
        ["who", EMAIL],
        [{ k: EMAIL }, new Set([CARD, 1])],
      ]),
    ) as Map<unknown, unknown>;
    expect(out).toBeInstanceOf(Map);
    const entries = [...out.entries()];
    expect(entries[0]).toEqual(["token", "[REDACTED]"]);
    expect(entries[1]).toEqual(["who", "[EMAIL]"]);
    expect(entries[2]).toEqual([{ k: "[EMAIL]" }, new Set(["[CARD]", 1])]);
  });

  it("plain mode turns Maps, Sets, Dates and Errors into JSON-ready values", () => {
    const r = createRedactor({ plain: true });
    const err = new Error(`failed for ${EMAIL}`, { cause: new TypeError(`card ${CARD}`) });
    const out = r.redact({
      m: new Map([["password", "x"]]),
      s: new Set([EMAIL]),
      d: new Date(0),
      err,
    }) as Record<string, Record<string, unknown>>;
    expect(out.m).toEqual({ password: "[REDACTED]" });
    expect(out.s).toEqual(["[EMAIL]"]);
    expect(out.d).toBe("1970-01-01T00:00:00.000Z");
    expect(out.err?.type).toBe("Error");
    expect(out.err?.message).toBe("failed for [EMAIL]");
    expect(out.err?.stack).toContain("failed for [EMAIL]");
    expect(out.err?.cause).toMatchObject({ type: "TypeError", message: "card [CARD]" });
    expect(JSON.stringify(out)).not.toMatch(/jane|4111/);
  });

  it("copies Errors with message, stack, cause, extra fields and class", () => {
    class AppError extends Error {
      code = "E_APP";
      user = EMAIL;
    }
    const e = new AppError(`bad ${EMAIL}`, { cause: new Error(`inner ${CARD}`) });
    const out = redact(e) as AppError;
    expect(out).toBeInstanceOf(AppError);
    expect(out).not.toBe(e);
    expect(out.message).toBe("bad [EMAIL]");
    expect(out.stack).not.toContain(EMAIL);
    expect((out.cause as Error).message).toBe("inner [CARD]");
    expect(out.code).toBe("E_APP");
    expect(out.user).toBe("[EMAIL]");
  });

  it("turns binary data into a size marker", () => {
    expect(redact({ b: Buffer.from(EMAIL), u: new Uint8Array(3) })).toEqual({ b: "[BINARY:20]", u: "[BINARY:3]" });
  });
});

describe("redact(): hostile input fails closed", () => {
  it("replaces cycles, not shared references", () => {
    const shared = { v: EMAIL };
    const a: Record<string, unknown> = { shared, again: shared };
    a.self = a;
    const arr: unknown[] = [1];
    arr.push(arr);
    expect(redact(a)).toEqual({ shared: { v: "[EMAIL]" }, again: { v: "[EMAIL]" }, self: MARKERS.circular });
    expect(redact(arr)).toEqual([1, MARKERS.circular]);
  });

  it("drops a throwing getter's field and keeps the rest", () => {
    const obj = {
      ok: EMAIL,
      get boom(): string {
        throw new Error(`leak ${EMAIL}`);
      },
    };
    expect(redact(obj)).toEqual({ ok: "[EMAIL]", boom: MARKERS.unreadable });
  });

  it("drops a Proxy whose ownKeys trap throws", () => {
    const p = new Proxy(
      { secret: EMAIL },
      {
        ownKeys() {
          throw new Error("no keys");
        },
      },
    );
    expect(redact({ p, q: 1 })).toEqual({ p: MARKERS.unreadable, q: 1 });
  });

  it("drops fields whose Proxy get trap throws", () => {
    const p = new Proxy(
      { a: 1, b: EMAIL },
      {
        get(target, key) {
          if (key === "a") throw new Error("trap");
          return Reflect.get(target, key);
        },
      },
    );
    expect(redact(p)).toEqual({ a: MARKERS.unreadable, b: "[EMAIL]" });
  });

  it("survives revoked proxies and Proxies pretending to be Errors", () => {
    const { proxy, revoke } = Proxy.revocable({ a: 1 }, {});
    revoke();
    expect(redact({ proxy })).toEqual({ proxy: MARKERS.unreadable });
    const liar = new Proxy(new Error(EMAIL), {
      get() {
        throw new Error("nope");
      },
    });
    expect(JSON.stringify(redact({ liar }))).not.toContain("jane");
  });

  it("drops strings over the size limit", () => {
    const huge = `${EMAIL} ${"x".repeat(2 * 1024 * 1024)}`;
    expect(redact({ huge, ok: "fine" })).toEqual({ huge: MARKERS.tooLarge, ok: "fine" });
    const small = createRedactor({ maxStringLength: 10 });
    expect(small.redact(["0123456789", "0123456789a"])).toEqual(["0123456789", MARKERS.tooLarge]);
  });

  it("stops at the depth limit", () => {
    let deep: Record<string, unknown> = { leaf: EMAIL };
    for (let i = 0; i < 100; i++) deep = { d: deep };
    expect(JSON.stringify(redact(deep))).toContain(MARKERS.tooDeep);
    expect(JSON.stringify(redact(deep))).not.toContain("jane");
  });

  it("stops at the node budget", () => {
    const r = createRedactor({ maxNodes: 50 });
    const out = r.redact(Array.from({ length: 1000 }, () => EMAIL)) as unknown[];
    expect(out.length).toBeLessThan(60);
    expect(out.at(-1)).toBe(MARKERS.tooMany);
  });

  it("does not write through a __proto__ key", () => {
    const input = JSON.parse(`{"__proto__": {"polluted": "${EMAIL}"}}`);
    const out = redact(input) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(JSON.stringify(out)).toBe('{"__proto__":{"polluted":"[EMAIL]"}}');
  });

  it("never mutates its input, frozen or not", () => {
    const input = {
      user: EMAIL,
      password: "p",
      list: [CARD, { ip: "10.0.0.1" }],
      map: new Map([["k", EMAIL]]),
      err: new Error(EMAIL),
    };
    const before = structuredClone(input);
    redact(input);
    redact(Object.freeze(input));
    expect(input).toEqual(before);
    expect(input.err.message).toBe(EMAIL);
  });

  it("handles primitives and odd values", () => {
    expect(redact(EMAIL)).toBe("[EMAIL]");
    expect(redact(null)).toBeNull();
    expect(redact(undefined)).toBeUndefined();
    expect(redact(() => 1)).toBe("[Function]");
    expect(redact(Symbol(EMAIL))).toBe("Symbol([EMAIL])");
    expect(redact(/jane@example\.com/)).toBe("/jane@example\\.com/");
  });
});
