import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { openLethe } from "../../src/lethe.js";
import { letheAsync, letheIn } from "../helpers/cli.js";
import { until } from "../helpers/wait.js";
import { type ErasureFixture, expected, filesUnder, remaining, sqliteFixture } from "./fixture.js";

const ERASED = Array.from({ length: 10 }, (_, i) => `kill-subject-${String(i).padStart(2, "0")}`);
const KEPT = ["kept-subject-a1", "kept-subject-b2", "kept-subject-c3"];
// 227 deletions per request (150 logs, 75 training rows with their files, 2 uploads), 2,270 in all: the kill at
// 400 lands inside the second request with most of the work still ahead (300 a subject took twice as long).
const PER_SUBJECT = 150;
const opened: ErasureFixture[] = [];
afterEach(() => {
  for (const f of opened.splice(0)) f.app?.close();
});

/**
 * Every deleted item on the ledger, one row each: the items of `deleted` batch entries (ledger v2; an integer key
 * in clear, any other key as its tag) and any `deleted` entry that still names its own item (one with per-item data).
 */
const DELETED_ITEMS = `select l.dataset as dataset, coalesce(cast(i.item_key as text), hex(i.key_tag)) as k, l.reason as reason
    from ledger_items i join ledger l on l.seq = i.seq where l.action = 'deleted'
  union all
  select dataset, coalesce(cast(item_key as text), key_hash), reason from ledger
    where action = 'deleted' and (item_key is not null or key_hash is not null)`;

/** Reads lethe's state from outside, as an operator would, while the processor runs. */
function peek<T>(f: ErasureFixture, q: string): T[] {
  const db = new Database(join(f.dir, ".lethe", "state.db"), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(q).all() as T[];
  } finally {
    db.close();
  }
}

describe("requests process survives kill -9", () => {
  it("a processor killed mid-way is resumed by the next run: everything erased once, ledger consistent", async () => {
    const f = sqliteFixture([...ERASED, ...KEPT], PER_SUBJECT);
    opened.push(f);
    const setup = await openLethe(join(f.dir, "lethe.yaml"), {
      logger: { warn: () => undefined, info: () => undefined },
    });
    const ids: string[] = [];
    try {
      for (const s of ERASED) ids.push((await setup.requests.create(s)).id);
    } finally {
      await setup.close();
    }

    const child = letheAsync(["requests", "process", "--json"], f.dir);
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_c, sig) => resolve(sig)));
    // Kill it once it is really mid-way: at least 400 deletions on the ledger (polled, never a fixed sleep).
    const deletedAtKill = await until(
      async () => {
        const n = peek<{ n: number }>(f, `select count(*) as n from (${DELETED_ITEMS})`)[0]?.n ?? 0;
        return (n >= 400 || child.exitCode !== null) && n;
      },
      60_000,
      5,
    );
    child.kill("SIGKILL");
    expect(await exited).toBe("SIGKILL");
    const total = ERASED.length * (PER_SUBJECT + PER_SUBJECT / 2 + 2);
    expect(deletedAtKill).toBeGreaterThan(0);
    expect(deletedAtKill).toBeLessThan(total); // really mid-way
    const statuses = peek<{ status: string }>(f, "select status from erasure_requests").map((r) => r.status);
    expect(statuses.filter((s) => s === "completed").length).toBeLessThan(ERASED.length);

    const rerun = await letheIn(["requests", "process", "--json"], f.dir);
    expect(rerun.code, rerun.stderr).toBe(0);
    const list = (await letheIn(["requests", "list", "--json"], f.dir)).json as {
      requests: { id: string; status: string }[];
    };
    expect(list.requests.map((r) => r.status)).toEqual(ERASED.map(() => "completed"));

    // Ground truth: every erased subject's rows and files gone, the kept subjects untouched.
    const want = expected(f, new Set(ERASED));
    expect(await remaining(f, "inference_logs")).toEqual(want.logs);
    expect(await remaining(f, "training_records")).toEqual(want.training);
    expect(filesUnder(f.models)).toEqual(want.modelFiles);
    expect(filesUnder(f.uploads)).toEqual(want.uploads);

    // Every erased item is on the ledger exactly once (the interrupted batch settled by reconciliation).
    const rows = peek<{ dataset: string; k: string }>(
      f,
      `select dataset, k from (${DELETED_ITEMS}) where reason not like '%linked file%'`,
    );
    const keys = rows.map((r) => `${r.dataset}/${r.k}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.length).toBe(total);
    const linked = peek<{ n: number }>(
      f,
      `select count(*) as n from (${DELETED_ITEMS}) where reason like '%linked file%'`,
    );
    expect(linked[0]?.n).toBe((ERASED.length * PER_SUBJECT) / 2);
    expect(peek<{ n: number }>(f, "select count(*) as n from intents")[0]?.n).toBe(0);
    expect((await letheIn(["audit", "verify", "--json"], f.dir)).json).toMatchObject({ ok: true });

    // Each request's totals sum every attempt: they match what was planted.
    let resumed = 0;
    for (const id of ids) {
      const show = (await letheIn(["requests", "show", id, "--json"], f.dir)).json as {
        attempts: number;
        datasets: { name: string; deleted: number; filesRemoved: number }[];
      };
      resumed += show.attempts > 1 ? 1 : 0;
      expect(Object.fromEntries(show.datasets.map((d) => [d.name, [d.deleted, d.filesRemoved]]))).toEqual({
        inference_logs: [PER_SUBJECT, 0],
        training_records: [PER_SUBJECT / 2, PER_SUBJECT / 2],
        uploads: [2, 0],
      });
    }
    expect(resumed).toBe(1); // exactly the one the kill interrupted
  });
});
