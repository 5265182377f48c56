import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeProject, type Project } from "../helpers/project.js";
import { bearer, footprint, type Harness, harness } from "../server/helpers.js";

describe("a GET changes nothing (issue 10, item 7)", () => {
  let p: Project;
  let h: Harness;
  beforeAll(async () => {
    p = makeProject({ logs: 40, expiredEvery: 4 });
    h = await harness(p);
  });
  afterAll(async () => h.close());

  it("50 GET /v1/plan leave the ledger and state as they were", async () => {
    const before = await footprint(h.lethe);
    // Reads are rate limited per token (burst 20): a fresh read token per ten requests.
    let token = h.tokens.read;
    for (let i = 0; i < 50; i++) {
      if (i % 10 === 0) token = (await h.app.lethe.tokens.create(["read"])).token;
      const r = await h.app.inject({ method: "GET", url: "/v1/plan", headers: bearer(token) });
      expect(r.statusCode).toBe(200);
      expect(r.json().datasets.find((d: { name: string }) => d.name === "logs")).toMatchObject({ expired: 10 });
    }
    expect(await footprint(h.lethe)).toEqual(before);
  });

  it("POST /v1/plan is the recorded dry run, admin only", async () => {
    const before = await h.lethe.ledger.size();
    const denied = await h.app.inject({ method: "POST", url: "/v1/plan", payload: {}, headers: bearer(h.tokens.read) });
    expect(denied.statusCode).toBe(403);
    const r = await h.app.inject({ method: "POST", url: "/v1/plan", payload: {}, headers: bearer(h.tokens.admin) });
    expect(r.statusCode).toBe(200);
    expect(await h.lethe.ledger.size()).toBe(before + 1);
    const plans = await h.lethe.state.db.selectFrom("ledger").select("seq").where("action", "=", "plan").execute();
    expect(plans).toHaveLength(1);
  });

  it("every read-only route leaves the ledger and state as they were", async () => {
    // A verification GET stores neither how far it verified nor its result, and signs no checkpoint.
    const verification = async () => ({
      ...(await footprint(h.lethe)),
      status: await h.lethe.state.db
        .selectFrom("server_status")
        .select(["key", "value"])
        .where("key", "in", ["ledger_verified_mark", "ledger_verification"])
        .execute(),
      checkpoints: (await h.lethe.state.db.selectFrom("checkpoints").select("size").execute()).length,
    });
    const before = await verification();
    const token = (await h.app.lethe.tokens.create(["read"])).token;
    for (const url of [
      "/v1/datasets",
      "/v1/forecast",
      "/v1/schedule",
      "/v1/runs",
      "/v1/holds",
      "/v1/audit?dataset=logs",
      "/v1/ledger",
      "/v1/audit/verify",
      "/v1/audit/verify?full=1",
    ]) {
      const r = await h.app.inject({ method: "GET", url, headers: bearer(token) });
      expect(r.statusCode, url).toBe(200);
    }
    expect(await verification()).toEqual(before);
  });
});

describe("GET /v1/receipts reads; issuing is a POST", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness(makeProject({ logs: 10 }));
  });
  afterAll(async () => h.close());

  it("a receipt a crash left unissued is 409 on GET (nothing written) and issued by POST", async () => {
    const { id } = await h.lethe.requests.create("user-1");
    await h.lethe.requests.process();
    const issued = await h.app.inject({ method: "GET", url: `/v1/receipts/${id}`, headers: bearer(h.tokens.read) });
    expect(issued.statusCode).toBe(200);
    // The crash window: the request completed, its receipt was not stored yet.
    await h.lethe.state.db.updateTable("erasure_requests").set({ receipt: null }).where("id", "=", id).execute();
    const before = await footprint(h.lethe);
    const receipt = async () =>
      (await h.lethe.state.db.selectFrom("erasure_requests").select("receipt").where("id", "=", id).executeTakeFirst())
        ?.receipt;
    for (let i = 0; i < 3; i++) {
      const r = await h.app.inject({ method: "GET", url: `/v1/receipts/${id}`, headers: bearer(h.tokens.read) });
      expect(r.statusCode).toBe(409);
      expect(r.json().error.message).toMatch(/no receipt issued yet/);
    }
    expect(await footprint(h.lethe)).toEqual(before);
    expect(await receipt()).toBeNull();
    const denied = await h.app.inject({ method: "POST", url: `/v1/receipts/${id}`, headers: bearer(h.tokens.read) });
    expect(denied.statusCode).toBe(403);
    const post = await h.app.inject({ method: "POST", url: `/v1/receipts/${id}`, headers: bearer(h.tokens.erasure) });
    expect(post.statusCode).toBe(200);
    expect(await receipt()).toBe(post.body);
    const again = await h.app.inject({ method: "GET", url: `/v1/receipts/${id}`, headers: bearer(h.tokens.read) });
    expect(again.body).toBe(post.body);
  });
});
