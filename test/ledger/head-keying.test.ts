import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { letheIn, tempDir, writeConfig } from "../helpers/cli.js";

// The migration that adds the head MAC may run in a command that never loads the master key (`token create`
// opens only the state). The head must then be keyed by the next open that holds the key, not left unkeyed
// forever (every later append would be refused as tampering).
describe("keying the ledger head", () => {
  it("a state created by token create is keyed by the next command; appends and verify work", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, "d"));
    writeConfig(
      dir,
      `version: 1
state: ./.lethe
stores:
  m: { kind: fs, root: ./d }
datasets:
  x: { store: m, include: ["**/*.pt"], retention: 30d }
`,
    );
    expect((await letheIn(["token", "create", "--scopes", "read", "--json"], dir)).code).toBe(0);
    const hold = await letheIn(["hold", "add", "--dataset", "x", "--reason", "r", "--json"], dir);
    expect(hold.code, hold.stdout).toBe(0);
    expect((await letheIn(["audit", "verify", "--json"], dir)).json).toMatchObject({ ok: true, entries: 1 });
  });
});
