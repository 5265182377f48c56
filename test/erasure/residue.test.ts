import { afterEach, describe, expect, it } from "vitest";
import { letheIn } from "../helpers/cli.js";
import { type ErasureFixture, remaining, sqliteFixture } from "./fixture.js";

interface Json {
  datasets: { name: string; found: number; deleted: number; failed: number; residue: number; residueKeys: number[] }[];
  residue: number;
}
const SUBJECTS = ["ann", "bob", "cid", "dee"];
const opened: ErasureFixture[] = [];
afterEach(() => {
  for (const f of opened.splice(0)) f.app?.close();
});
function fixture(): ErasureFixture {
  const f = sqliteFixture(SUBJECTS, 5);
  opened.push(f);
  return f;
}
const rowsOf = (f: ErasureFixture, s: string) => f.logs.filter((r) => r.subject === s).map((r) => r.id);

describe("residue verification after an erasure", () => {
  it("a row the database refuses to delete is reported as failed and as residue (exit 1)", async () => {
    const f = fixture();
    const stuck = rowsOf(f, "bob")[2] as number;
    f.app?.exec(`create trigger keep_row before delete on inference_logs when old.id = ${stuck}
      begin select raise(abort, 'row is locked by the application'); end`);
    const r = await letheIn(["erase", "bob", "--yes", "--json"], f.dir);
    expect(r.code).toBe(1);
    const logs = (r.json as Json).datasets.find((d) => d.name === "inference_logs");
    expect(logs).toMatchObject({ found: 5, deleted: 4, failed: 1, residue: 1, residueKeys: [stuck] });
    expect(await remaining(f, "inference_logs")).toContain(stuck);
    expect((await letheIn(["erase", "bob", "--yes"], f.dir)).stdout).toMatch(
      /RESIDUE: inference_logs still has 1 item/,
    );
  });

  it("a row written for the subject while the erasure runs is found by the re-query (exit 1)", async () => {
    const f = fixture();
    const first = rowsOf(f, "cid")[0] as number;
    // The application writes another row for the same person at the moment one of theirs is deleted.
    f.app?.exec(`create trigger late_write after delete on inference_logs when old.id = ${first}
      begin insert into inference_logs (user_id, prompt_text, created_at, retention_days)
        values (old.user_id, 'written during the erasure', old.created_at, 365); end`);
    const r = await letheIn(["erase", "cid", "--yes", "--json"], f.dir);
    expect(r.code).toBe(1);
    const j = r.json as Json;
    expect(j.residue).toBe(1);
    const logs = j.datasets.find((d) => d.name === "inference_logs");
    expect(logs).toMatchObject({ deleted: 5, failed: 0, residue: 1 });
    const late = Math.max(...(await remaining(f, "inference_logs")));
    expect(logs?.residueKeys).toEqual([late]);
    // Once the application stops writing, erasing again completes and verifies clean.
    f.app?.exec("drop trigger late_write");
    const again = await letheIn(["erase", "cid", "--yes", "--json"], f.dir);
    expect(again.code).toBe(0);
    expect((again.json as Json).residue).toBe(0);
  });
});
