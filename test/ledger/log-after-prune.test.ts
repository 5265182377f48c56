import { afterEach, describe, expect, it } from "vitest";
import { letheIn } from "../helpers/cli.js";
import { makeProject } from "../helpers/project.js";
import { until } from "../helpers/wait.js";
import { bearer, harness } from "../server/helpers.js";
import { ledgerProject } from "./helpers.js";

// QA (issue 9, trust): after `audit prune`, "what happened to record X" for a record whose entries were pruned
// answered "No ledger entries match." (`{"entries": []}`), the same as for a record lethe never touched. The
// answer now says that history before the prune point is gone.
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe("audit log after a prune", () => {
  it("says entries before the prune point were pruned, in JSON and in text", async () => {
    const p = ledgerProject("./.lethe", (c) => cleanups.push(c));
    const l = await p.open();
    await l.ledger.append([{ action: "deleted", dataset: "logs", key: 2, subject: "user-2" }]);
    const last = Date.now();
    const cut = await until(async () => Date.now() > last && new Date(), 5_000, 1);
    await until(async () => Date.now() > cut.getTime(), 5_000, 1);
    const before = await letheIn(["audit", "log", "--dataset", "logs", "--key", "2", "--json"], p.dir);
    expect(before.json).toEqual({ entries: [expect.objectContaining({ key: 2 })] });
    await l.audit.prune({ before: cut, yes: true });
    await l.close();
    const json = await letheIn(["audit", "log", "--dataset", "logs", "--key", "2", "--json"], p.dir);
    expect(json.json).toEqual({ entries: [], prunedBefore: cut.toISOString() });
    const text = await letheIn(["audit", "log", "--dataset", "logs", "--key", "2"], p.dir);
    expect(text.stdout).toContain(
      `No ledger entries match.\n(entries recorded before ${cut.toISOString()} were pruned`,
    );
  });

  it("GET /v1/audit says so too", async () => {
    const h = await harness(makeProject({ logs: 10 }));
    cleanups.push(() => h.close());
    await h.lethe.ledger.append([{ action: "hold_added", reason: "x" }]);
    const last = Date.now();
    const cut = await until(async () => Date.now() > last && new Date(), 5_000, 1);
    await until(async () => Date.now() > cut.getTime(), 5_000, 1);
    await h.lethe.audit.prune({ before: cut, yes: true });
    const r = await h.app.inject({
      method: "GET",
      url: "/v1/audit?dataset=logs&key=4",
      headers: bearer(h.tokens.read),
    });
    expect(r.json()).toEqual({ entries: [], prunedBefore: cut.toISOString() });
  });
});
