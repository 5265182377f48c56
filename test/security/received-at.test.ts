import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkReceivedAt } from "../../src/core/requests/received-at.js";
import { makeProject } from "../helpers/project.js";
import { bearer, footprint, type Harness, harness } from "../server/helpers.js";

/** Issue 10 item 10: one validator for received-at (CLI, HTTP, library). */
describe("receivedAt", () => {
  const now = new Date("2026-06-01T12:00:00Z");
  it("accepts RFC 3339 with a zone within [2016-04-27, now + 5 min]", () => {
    expect(checkReceivedAt("2026-03-01T09:00:00Z", "receivedAt", now).toISOString()).toBe("2026-03-01T09:00:00.000Z");
    expect(checkReceivedAt("2026-06-01T12:04:00+00:00", "receivedAt", now)).toBeInstanceOf(Date);
    expect(checkReceivedAt("2016-04-27T00:00:00Z", "receivedAt", now)).toBeInstanceOf(Date);
  });
  it.each(["2", "2026-03-01", "2026-03-01T09:00:00", "March 1 2026", "2026-13-01T00:00:00Z"])("refuses %s", (s) => {
    expect(() => checkReceivedAt(s, "receivedAt", now)).toThrow(/receivedAt/);
  });
  it("refuses the future beyond 5 minutes and anything before 2016-04-27", () => {
    expect(() => checkReceivedAt("2026-06-01T12:06:00Z", "receivedAt", now)).toThrow(/future/);
    expect(() => checkReceivedAt("1970-01-01T00:00:00Z", "receivedAt", now)).toThrow(/2016-04-27/);
    expect(() => checkReceivedAt(new Date("2016-04-26T23:59:59Z"), "receivedAt", now)).toThrow(/2016-04-27/);
  });
});

describe("POST /v1/erasure-requests receivedAt", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness(makeProject({ logs: 1 }));
  });
  afterAll(async () => h.close());
  it("400 VALIDATION for '2' and 1970, nothing stored", async () => {
    const before = await footprint(h.lethe);
    for (const receivedAt of ["2", "1970-01-01T00:00:00Z"]) {
      const r = await h.app.inject({
        method: "POST",
        url: "/v1/erasure-requests",
        payload: { subject: "alice", receivedAt },
        headers: bearer(h.tokens.erasure),
      });
      expect(r.statusCode, receivedAt).toBe(400);
    }
    expect(await footprint(h.lethe)).toEqual(before);
  });
});
