import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/redact/logger.js";
import { createTextScanner } from "../../src/redact/text-scanner.js";

const scanner = createTextScanner();

describe("JSON stored as a string", () => {
  it("redacts sensitive keys at any depth of escaping and keeps the line valid", () => {
    const inner = { password: "hunter2", api_key: "k-123", prompt: "my secret prompt", n: 5, token: 12345 };
    const once = JSON.stringify({ msg: `request body: ${JSON.stringify(inner)}` });
    const twice = JSON.stringify({ a: JSON.stringify({ b: JSON.stringify({ ...inner, secret: { x: 'y"z' } }) }) });
    for (const line of [once, twice]) {
      const out = scanner.redact(line);
      for (const v of ["hunter2", "k-123", "my secret prompt", "12345", 'y\\\\\\"z']) expect(out).not.toContain(v);
      expect(() => JSON.parse(out)).not.toThrow();
    }
    const deep = JSON.parse(JSON.parse(JSON.parse(scanner.redact(twice)).a).b);
    expect(deep).toMatchObject({ password: "[REDACTED]", token: "[REDACTED]", secret: "[REDACTED]", n: 5 });
    expect(scanner.redact('{"nested":"{\\"password\\":\\"inner-secret\\"}"}')).toBe(
      '{"nested":"{\\"password\\":\\"[REDACTED]\\"}"}',
    );
  });

  it("the logger does not leak them", () => {
    const chunks: string[] = [];
    const stream = new Writable({
      write(c, _e, cb) {
        chunks.push(String(c));
        cb();
      },
    });
    const log = createLogger({ destination: stream });
    log.info(`request body: ${JSON.stringify({ password: "hunter2", api_key: "k-123", prompt: "my secret prompt" })}`);
    log.info({ headers: JSON.stringify({ cookie: "sid=s3cr3t" }) }, "req");
    const out = chunks.join("");
    for (const v of ["hunter2", "k-123", "my secret prompt", "s3cr3t"]) expect(out).not.toContain(v);
    for (const l of out.trim().split("\n")) expect(() => JSON.parse(l)).not.toThrow();
  });
});

describe("prose values of sensitive keys", () => {
  it.each([
    ["prompt: Tell me about my HIV diagnosis", "prompt: [REDACTED]"],
    ["password=x user=bob", "password=[REDACTED] user=bob"],
    ["prompt: what is 2+2, user: bob", "prompt: [REDACTED], user: bob"],
    ['msg="prompt: hi there" next=1', 'msg="prompt: [REDACTED]" next=1'],
    ['note prompt: he said "hi" to me', "note prompt: [REDACTED]"],
    ["token=abc processed", "token=[REDACTED] processed"],
  ])("%j", (text, expected) => {
    expect(scanner.redact(text)).toBe(expected);
  });

  it("stops at the end of the JSON string holding the message", () => {
    const line = JSON.stringify({ msg: 'prompt: he said "hi" to me\nsecond line', x: 1 });
    const out = scanner.redact(line);
    expect(JSON.parse(out)).toEqual({ msg: "prompt: [REDACTED]\nsecond line", x: 1 });
  });
});

describe("percent-encoded values", () => {
  it("finds emails, phones, cards and IPs in URLs", () => {
    expect(scanner.redact("GET /cb?email=jane.doe%40example.com&phone=%2B44%2020%207946%200958 HTTP/1.1")).toBe(
      "GET /cb?email=[EMAIL]&phone=[PHONE] HTTP/1.1",
    );
    expect(scanner.redact("q=4111%201111%201111%201111&ip=2001%3Adb8%3A%3A1&f=%2B44+20+7946+0958")).toBe(
      "q=[CARD]&ip=[IP]&f=[PHONE]",
    );
    expect(scanner.redact("/x?password=hunter%202&token=abc&api_key=k%2D1&x=1")).toBe(
      "/x?password=[REDACTED]&token=[REDACTED]&api_key=[REDACTED]&x=1",
    );
    expect(scanner.redact("progress 100%25 done, 50% left, %zz")).toBe("progress 100%25 done, 50% left, %zz");
  });
});

describe("emails", () => {
  it.each([
    "josé@example.com",
    "jane@münchen.de",
    "用户@例子.广告",
    "o'brien@example.ie",
    "jane&john@example.com",
    "a/b@example.com",
    "t!#x~y@example.com",
  ])("%s as a whole", (email) => {
    expect(scanner.redact(`user ${email} ok`)).toBe("user [EMAIL] ok");
  });

  it("keeps field names and quotes outside", () => {
    expect(scanner.redact("user=jane@example.com 'q@x.com' “k@x.com” /users/jane@example.com")).toBe(
      "user=[EMAIL] '[EMAIL]' “[EMAIL]” /users/[EMAIL]",
    );
  });

  it("finds UTF-8 addresses in the Latin-1 view scan-logs uses", () => {
    const latin1 = Buffer.from("to josé@example.com.", "utf8").toString("latin1");
    expect(scanner.redact(latin1)).toBe("to [EMAIL].");
  });
});

describe("cards inside IBANs", () => {
  it.each([
    "FR15 8601 2945 1910 4062 3613 410",
    "HU92 5841 2413 6377 7787 8428 6399",
    "PL62 3615 2395 4299 7098 8504 5151",
    "IT90 X526 7774 6469 7103 4094 047",
    "5555 4111 1111 1111 1111",
  ])("%s is not a card", (text) => {
    expect(scanner.scan(text).filter((s) => s.type === "card")).toEqual([]);
  });

  it("still finds cards with an expiry, a CVV or a date around them", () => {
    expect(scanner.redact("card 4111 1111 1111 1111 12/26")).toBe("card [CARD] 12/26");
    expect(scanner.redact("card 4111 1111 1111 1111 123")).toBe("card [CARD] 123");
    expect(scanner.redact("2024-01-01 4111-1111-1111-1111 ok")).toBe("2024-01-01 [CARD] ok");
  });
});

describe("phone look-alikes", () => {
  it.each([
    "044-88-0000",
    "032 00 9392",
    "zip 02134-1234",
    "sku 0123-456-789",
    "100-200-3000",
    "NL12 ABNA 0246 8828 97",
    "IE17 DPAS 0133 5653 1065 13",
  ])("%s is not a phone", (text) => {
    expect(scanner.scan(text).filter((s) => s.type === "phone")).toEqual([]);
  });

  it.each([
    "+44 20 7946 0958",
    "(555) 123-4567",
    "555.123.4567",
    "+1-555-123-4567",
    "+49 30 1234567",
    "07700 900123",
    "020 7946 0958",
  ])("%s is still a phone", (phone) => {
    expect(scanner.redact(`call ${phone} now`)).toBe("call [PHONE] now");
  });
});

describe("Bearer and Basic leave the next key alone", () => {
  it("keeps key=value pairs and words after the scheme, still masks real credentials", async () => {
    const { createRedactor } = await import("../../src/redact/redactor.js");
    const r = createRedactor();
    expect(r.redactText("token_type=Bearer expires_in=3600")).toBe("token_type=Bearer expires_in=3600");
    expect(r.redactText('WWW-Authenticate: Bearer error_description="expired"')).toBe(
      'WWW-Authenticate: Bearer error_description="expired"',
    );
    expect(r.redactText("Bearer token-expired for user 5")).toBe("Bearer token-expired for user 5");
    expect(r.redactText("Authorization: Bearer abcDEF123456ghiJKL789")).not.toContain("abcDEF123456ghiJKL789");
    expect(r.redactText("Authorization: Basic dXNlcjpwYXNzd29yZDEyMw==")).not.toContain("dXNlcjpwYXNzd29yZDEyMw==");
  });
});

describe("a 17-digit id grouped 4-4-4-4-1", () => {
  it("is not cut into a card plus a stray digit", async () => {
    const { createRedactor } = await import("../../src/redact/redactor.js");
    const r = createRedactor();
    expect(r.redactText("ref=4447 0027 9471 9210 9 ok")).toBe("ref=4447 0027 9471 9210 9 ok");
    expect(r.redactText("card 4111 1111 1111 1111 12 25")).toBe("card [CARD] 12 25");
  });
});
