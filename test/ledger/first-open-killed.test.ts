import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openState } from "../../src/state/open-state.js";
import { lethe } from "../helpers/cli.js";
import { makeProject } from "../helpers/project.js";

// Found by QA (SIGKILL loop on the first `lethe apply` with the state on PostgreSQL): a process killed after the
// new state's migrations committed but before it keyed the empty ledger head left a head without a MAC that no
// later open would key (only the open that applied the migration did), so every command after it failed with
// "the ledger head is not authentic", exit 4, on a state that had never recorded anything. openState alone is
// exactly that point: migrations applied, head not yet keyed.
describe("a new state whose first open was cut before the head was keyed", () => {
  it("is keyed by the next open, and works", async () => {
    const p = makeProject({ safety: 1 });
    const state = await openState({ kind: "sqlite", dir: join(p.dir, ".lethe") });
    await state.close();

    const r = lethe(["apply", "--json"], p.dir);
    expect(r.code, r.stderr).toBe(0);
    const v = lethe(["audit", "verify", "--full", "--json"], p.dir);
    expect(v.code, v.stdout).toBe(0);
  });
});
