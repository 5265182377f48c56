import { describe, expect, it } from "vitest";
import { createTextScanner } from "../../src/redact/text-scanner.js";
import { ibanValid, luhnValid } from "../../src/redact/validators.js";

const scanner = createTextScanner();
const JWT =
  "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkphbmUifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";

/** Each true positive: the text, the value that must disappear, and the type it must be reported as. */
const TRUE_POSITIVES: [type: string, text: string, value: string][] = [
  ["email", "user jane.doe@example.com logged in", "jane.doe@example.com"],
  ["email", 'json {"to":"j_o+tag@sub.example.co.uk"}', "j_o+tag@sub.example.co.uk"],
  ["email", "mailto:Darrell.OKon95@gmail.com", "Darrell.OKon95@gmail.com"],
  ["email", 'escaped "hello\\nkim@corp.io"', "kim@corp.io"],
  ["phone", "call +15716506109 now", "+15716506109"],
  ["phone", "uk +44 20 7946 0958", "+44 20 7946 0958"],
  ["phone", "us (313) 642-6123", "(313) 642-6123"],
  ["phone", "dots 975.310.8670 x982", "975.310.8670"],
  ["phone", "trunk 1-830-741-4092", "1-830-741-4092"],
  ["phone", "dash 256-252-6163", "256-252-6163"],
  ["phone", "london 020 7946 0958", "020 7946 0958"],
  ["phone", "paris 06 12 34 56 78", "06 12 34 56 78"],
  ["phone", "intl +1 (555) 123-4567", "+1 (555) 123-4567"],
  ["card", "visa 4111 1111 1111 1111", "4111 1111 1111 1111"],
  ["card", "dashed 4111-1111-1111-1111 ok", "4111-1111-1111-1111"],
  ["card", "card=4111111111111111", "4111111111111111"],
  ["card", "mc 5500 0000 0000 0004", "5500 0000 0000 0004"],
  ["card", "amex 3782-822463-10005", "3782-822463-10005"],
  ["card", "discover 6011-8889-5576-7787", "6011-8889-5576-7787"],
  ["card", "with expiry 4111 1111 1111 1111 12 25", "4111 1111 1111 1111"],
  ["iban", "de DE89 3704 0044 0532 0130 00", "DE89 3704 0044 0532 0130 00"],
  ["iban", "compact DE89370400440532013000.", "DE89370400440532013000"],
  ["iban", "gb GB82 WEST 1234 5698 7654 32", "GB82 WEST 1234 5698 7654 32"],
  ["iban", "fr FR14 2004 1010 0505 0001 3M02 606", "FR14 2004 1010 0505 0001 3M02 606"],
  ["ssn", "ssn 123-45-6789", "123-45-6789"],
  ["ssn", "spaced 219 09 9999 end", "219 09 9999"],
  ["ip", "from 192.168.1.10", "192.168.1.10"],
  ["ip", "peer 10.0.0.1:8080", "10.0.0.1"],
  ["ip", "url http://203.0.113.7/x", "203.0.113.7"],
  ["ip", "v6 fe80::1ff:fe23:4567:890a", "fe80::1ff:fe23:4567:890a"],
  ["ip", "v6 [2001:db8::1]:443", "2001:db8::1"],
  ["ip", "full 2001:0db8:85a3:0000:0000:8a2e:0370:7334", "2001:0db8:85a3:0000:0000:8a2e:0370:7334"],
  ["ip", "mapped ::ffff:192.0.2.128", "::ffff:192.0.2.128"],
  ["jwt", `token ${JWT}`, JWT],
  ["jwt", `Bearer ${JWT}`, JWT],
  ["token", "header bearer abc123def456ghi789", "abc123def456ghi789"],
  ["token", "Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA=="],
  ["api_key", "aws AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"],
  ["api_key", "gh ghp_abcdefghijklmnopqrstuvwxyz0123456789", "ghp_abcdefghijklmnopqrstuvwxyz0123456789"],
  ["api_key", "slack xoxb-123456789012-1234567890123-AbCdEfGhIj", "xoxb-123456789012-1234567890123-AbCdEfGhIj"],
  ["api_key", "stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"],
  ["api_key", "openai sk-proj-abcdefghijklmnopqrstuvwxyz012345", "sk-proj-abcdefghijklmnopqrstuvwxyz012345"],
  ["api_key", "google AIzaSyA1234567890abcdefghijklmnopqrstuv", "AIzaSyA1234567890abcdefghijklmnopqrstuv"],
  ["sensitive_field", '{"password":"hunter2"}', "hunter2"],
  ["sensitive_field", "GET /cb?code=1&access_token=abc123xyz&x=1", "abc123xyz"],
  ["sensitive_field", "api_key: 'k-1-2-3'", "k-1-2-3"],
  ["sensitive_field", "Cookie: session=abc; theme=dark", "session=abc; theme=dark"],
  ["sensitive_field", "Authorization: Bearer opaque", "Bearer opaque"],
  ["sensitive_field", '{"prompt":"summarise my medical file"}', "summarise my medical file"],
  ["sensitive_field", '{"X-Api-Key":"k"}', '"k"'],
  ["sensitive_field", "DB_PASSWORD=s3cr3t ./run", "s3cr3t"],
];

/** Lines that look like personal data to a naive regex and must come back untouched. */
const FALSE_POSITIVES: [what: string, text: string][] = [
  ["uuid", "req 550e8400-e29b-41d4-a716-446655440000 done"],
  ["numeric uuid", "id 41111111-1111-1111-1111-111111111111"],
  ["luhn-failing order", "order 4111 1111 1111 1112 shipped"],
  ["order number", "order=1234567812345678 total=12.50"],
  ["order ref", "ref ORD-2024-000123-7781"],
  ["epoch ms", '{"time":1714567890123}'],
  ["epoch ns", "ts=1714567890123456789"],
  ["epoch s", "ts=1714567890"],
  ["iso timestamp", "2024-05-01T12:34:56.789Z"],
  ["apache time", "[01/May/2024:12:34:56 +0000]"],
  ["date time", "2024-05-01 12:34:56,789"],
  ["version quad", "node 1.2.3.4"],
  ["version word", "version 10.2.0.1"],
  ["version v", "v10.20.30.40"],
  ["version pre", "10.0.0-beta"],
  ["version pre quad", "release 10.20.30.40-rc1"],
  ["user agent", "Mozilla/5.0 Chrome/120.0.6099.109 Safari/537.36 Edg/120.0.0.0"],
  ["semver", "upgraded to 2.14.1"],
  ["sha256", "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
  ["sha256 upper", "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"],
  ["git sha", "commit 8daf3f89fff22fc611d47471b1b5bdeb77efecaa"],
  ["short git sha", "at 8daf3f8"],
  ["md5", "md5 9e107d9d372bb6826bd81d3542a419d6"],
  ["clock", "took 12:34:56"],
  ["mac", "mac 00:1a:2b:3c:4d:5e"],
  ["c++", "std::string::npos Foo::Bar"],
  ["bad octet", "999.1.1.1"],
  ["five parts", "10.0.0.1.5"],
  ["bad iban check", "DE89 3704 0044 0532 0130 01"],
  ["unknown iban country", "XX89370400440532013000"],
  ["bad ssn area", "000-12-3456 666-12-3456 912-34-5678"],
  ["bad ssn group/serial", "123-00-4567 123-45-0000"],
  ["jwt-like", "eyJub3QiOiJqd3QifQ.eyJ4IjoxfQ.c2ln"],
  ["one segment", "eyJhbGciOiJIUzI1NiJ9"],
  ["bearer prose", "Bearer authentication failed"],
  ["sk prose", "risk-assessment-pipeline-v2-finalised"],
  ["npm", "npm i @types/node left-pad@1.3.0 user@localhost"],
  ["tokens count", '{"prompt_tokens":12,"completion_tokens":80,"tokens":5,"max_tokens":100,"token_count":3}'],
  ["null password", '{"password":null,"secret":"[REDACTED]"}'],
  ["prose", "the password is wrong, please reset it"],
  ["latency", "GET /v1/chat 200 1234ms 5678 bytes port 8080"],
  ["http", "HTTP/1.1 200 OK"],
  ["decimal", "amount=123456.78 balance=-42.5"],
  ["already redacted", "user [EMAIL] card [CARD] auth Bearer [TOKEN] password=[REDACTED]"],
];

describe("detectors: true positives", () => {
  it.each(TRUE_POSITIVES)("%s in %j", (type, text, value) => {
    const spans = scanner.scan(text);
    expect(spans.map((s) => s.type)).toContain(type);
    const out = scanner.redact(text);
    expect(out).not.toContain(value);
  });
});

describe("detectors: false positives", () => {
  it.each(FALSE_POSITIVES)("%s is left alone", (_what, text) => {
    expect(scanner.scan(text)).toEqual([]);
    expect(scanner.redact(text)).toBe(text);
  });
});

describe("validators", () => {
  it("Luhn accepts valid and rejects invalid numbers", () => {
    expect(luhnValid("4111 1111 1111 1111")).toBe(true);
    expect(luhnValid("4111 1111 1111 1112")).toBe(false);
    expect(luhnValid("")).toBe(false);
  });
  it("IBAN needs the country length and mod-97", () => {
    expect(ibanValid("DE89 3704 0044 0532 0130 00")).toBe(true);
    expect(ibanValid("DE89 3704 0044 0532 0130 0")).toBe(false);
    expect(ibanValid("NO9386011117947")).toBe(true);
    expect(ibanValid("ZZ9386011117947")).toBe(false);
  });
});

describe("markers and structure", () => {
  it("uses typed markers", () => {
    expect(scanner.redact(`a jane@x.com b 4111111111111111 c ${JWT} d AKIAIOSFODNN7EXAMPLE e 10.1.2.3`)).toBe(
      "a [EMAIL] b [CARD] c [JWT] d [API_KEY] e [IP]",
    );
    expect(scanner.redact("bearer abc123def456ghi789")).toBe("bearer [TOKEN]");
  });

  it("keeps JSON lines valid", () => {
    const line = JSON.stringify({
      msg: "mail jane@x.com\nand kim@y.org",
      password: "p",
      prompt: { role: "user", content: "hi" },
      access_token: 12345,
      nested: ["4111 1111 1111 1111", "10.0.0.1"],
    });
    const parsed = JSON.parse(scanner.redact(line));
    expect(parsed).toEqual({
      msg: "mail [EMAIL]\nand [EMAIL]",
      password: "[REDACTED]",
      prompt: "[REDACTED]",
      access_token: "[REDACTED]",
      nested: ["[CARD]", "[IP]"],
    });
  });

  it("redacted text scans clean", () => {
    const once = scanner.redact(
      'Authorization: Bearer abc123def456 {"password":"x"} jane@x.com 123-45-6789 +15716506109 DE89370400440532013000',
    );
    expect(scanner.scan(once)).toEqual([]);
  });

  it("supports custom patterns and keys", () => {
    const custom = createTextScanner({
      patterns: [{ name: "employee_id", regex: "EMP-\\d{6}" }],
      keys: ["employee_note"],
    });
    expect(custom.redact('id EMP-123456 {"employeeNote":"private"}')).toBe(
      'id [EMPLOYEE_ID] {"employeeNote":"[REDACTED]"}',
    );
    expect(() => createTextScanner({ patterns: [{ name: "bad name", regex: "x" }] })).toThrow(
      /redact.patterns\[0\].name/,
    );
    expect(() => createTextScanner({ patterns: [{ name: "x", regex: "(" }] })).toThrow(/redact.patterns\[0\].regex/);
    expect(() => createTextScanner({ patterns: [{ name: "x", regex: "a*" }] })).toThrow(/empty string/);
  });
});
