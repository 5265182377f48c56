import { afterEach, describe, expect, it } from "vitest";
import { makeProject } from "../helpers/project.js";
import { bearer, type Harness, harness } from "./helpers.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe("POST /v1/runs without a body (issue 11)", () => {
  it("is accepted with no content type, an empty JSON body, or curl -d '' (form type, empty)", async () => {
    h = await harness(makeProject({ safety: 1 }));
    const variants: Record<string, string>[] = [
      {},
      { "content-type": "application/json" },
      { "content-type": "application/x-www-form-urlencoded" },
    ];
    for (const headers of variants) {
      const r = await h.app.inject({
        method: "POST",
        url: "/v1/runs",
        headers: { ...bearer(h.tokens.admin), ...headers },
        payload: "",
      });
      expect(r.statusCode, JSON.stringify(headers)).toBe(202);
      expect(r.json()).toMatchObject({ status: "running" });
    }
  });

  it("a non-empty body in another format is still a 415; a body-needing route still says what is missing", async () => {
    h = await harness(makeProject());
    const text = await h.app.inject({
      method: "POST",
      url: "/v1/runs",
      headers: { ...bearer(h.tokens.admin), "content-type": "text/plain" },
      payload: "dataset=logs",
    });
    expect(text.statusCode).toBe(415);
    const empty = await h.app.inject({
      method: "POST",
      url: "/v1/erasure-requests",
      headers: { ...bearer(h.tokens.erasure), "content-type": "application/json" },
      payload: "",
    });
    expect(empty.statusCode).toBe(400);
  });
});
