import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/redact/logger.js";

const EMAIL = "jane.doe@example.com";
const CARD = "4111 1111 1111 1111";
const PROMPT = "please summarise my cancer diagnosis";
const PLANTED = [EMAIL, CARD, "4111111111111111", PROMPT, "jane.doe", "hunter2"];

/** A destination that keeps every line written to it. */
function capture(): { stream: Writable; lines: () => string[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  return { stream, lines: () => chunks.join("").split("\n").filter(Boolean) };
}

function expectClean(lines: string[]): void {
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines) {
    expect(() => JSON.parse(line), line).not.toThrow();
    for (const p of PLANTED) expect(line).not.toContain(p);
  }
}

describe("createLogger", () => {
  it("never emits planted personal data, whichever way it is logged", () => {
    const { stream, lines } = capture();
    const log = createLogger({ destination: stream, level: "trace" });
    log.info({ user: EMAIL, payment: { card: CARD }, prompt: PROMPT, password: "hunter2" }, "checkout");
    log.info(`user ${EMAIL} paid with ${CARD}`);
    log.warn("user %s paid with %s", EMAIL, CARD);
    log.error("%s@%s", "jane.doe", "example.com");
    log.debug({ nested: [[{ deeper: new Map([["email", EMAIL]]) }]], tags: new Set([CARD]) });
    log.trace("obj %j and %o", { prompt: PROMPT }, { note: EMAIL });
    log.info({ response_text: PROMPT, numbers: [4111111111111111] }, "done");
    expectClean(lines());
    expect(lines()).toHaveLength(7);
  });

  it("redacts the message and the merged object", () => {
    const { stream, lines } = capture();
    const log = createLogger({ destination: stream });
    log.info({ user: EMAIL, password: "hunter2" }, "signed in from %s", "10.1.2.3");
    const rec = JSON.parse(lines()[0] ?? "{}");
    expect(rec).toMatchObject({ user: "[EMAIL]", password: "[REDACTED]", msg: "signed in from [IP]", level: 30 });
  });

  it("redacts errors, their causes and stacks", () => {
    const { stream, lines } = capture();
    const log = createLogger({ destination: stream });
    const err = new Error(`charge failed for ${EMAIL}`, { cause: new Error(`card ${CARD} declined`) });
    log.error(err);
    log.error(err, "with message %s", EMAIL);
    log.error({ err, request: { prompt: PROMPT } }, "nested");
    expectClean(lines());
    const rec = JSON.parse(lines()[0] ?? "{}");
    expect(rec.msg).toBe("charge failed for [EMAIL]");
    expect(rec.err).toMatchObject({ type: "Error", message: "charge failed for [EMAIL]" });
    expect(rec.err.cause).toMatchObject({ message: "card [CARD] declined" });
    expect(rec.err.stack).toContain("charge failed for [EMAIL]");
  });

  it("redacts child bindings, prefixes and setBindings, for grandchildren too", () => {
    const { stream, lines } = capture();
    const log = createLogger({ destination: stream });
    const child = log.child({ user: EMAIL, token: "abc" }, { msgPrefix: `[${EMAIL}] ` });
    child.info("hello");
    const grandchild = child.child({ card: CARD });
    grandchild.info("again");
    grandchild.setBindings({ prompt: PROMPT });
    grandchild.info("third");
    expectClean(lines());
    expect(JSON.parse(lines()[0] ?? "{}")).toMatchObject({ user: "[EMAIL]", token: "[REDACTED]" });
  });

  it("fails closed on hostile objects", () => {
    const { stream, lines } = capture();
    const log = createLogger({ destination: stream });
    const cyclic: Record<string, unknown> = { user: EMAIL };
    cyclic.self = cyclic;
    const throwing = {
      get boom(): string {
        throw new Error(EMAIL);
      },
    };
    const proxy = new Proxy(
      {},
      {
        ownKeys() {
          throw new Error("x");
        },
      },
    );
    log.info({ cyclic, throwing, proxy, big: "x".repeat(2 * 1024 * 1024) + EMAIL }, "hostile");
    expectClean(lines());
    const rec = JSON.parse(lines()[0] ?? "{}");
    expect(rec.cyclic.self).toBe("[CIRCULAR]");
    expect(rec.throwing.boom).toBe("[DROPPED:UNREADABLE]");
    expect(rec.proxy).toBe("[DROPPED:UNREADABLE]");
    expect(rec.big).toBe("[DROPPED:TOO_LARGE]");
    log.info(`${"x".repeat(2 * 1024 * 1024)} ${EMAIL}`);
    expect(JSON.parse(lines()[1] ?? "{}").msg).toBe("[DROPPED:TOO_LARGE]");
  });

  it("uses configured keys and patterns", () => {
    const { stream, lines } = capture();
    const log = createLogger({
      destination: stream,
      keys: ["diagnosis"],
      patterns: [{ name: "mrn", regex: "MRN-\\d{6}" }],
    });
    log.info({ diagnosis: "flu", note: "patient MRN-123456" }, "seen MRN-654321");
    const rec = JSON.parse(lines()[0] ?? "{}");
    expect(rec).toMatchObject({ diagnosis: "[REDACTED]", note: "patient [MRN]", msg: "seen [MRN]" });
  });

  it("respects the level and writes nothing below it", () => {
    const { stream, lines } = capture();
    const log = createLogger({ destination: stream, level: "warn" });
    log.info(EMAIL);
    log.warn("x");
    expect(lines()).toHaveLength(1);
  });
});
