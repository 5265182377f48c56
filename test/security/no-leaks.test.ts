import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { type CliResult, letheSpawn } from "../helpers/cli.js";
import { filesUnder } from "../helpers/files.js";
import { makeProject, ts } from "../helpers/project.js";

// Distinctive values: if they show up anywhere they must not, nothing else could have put them there.
const SUBJECT = "canary-subject-7f3a91";
const PROMPT = "canary prompt: my diagnosis is zebra-42-quokka";

describe("no raw subject ids or prompts in logs or lethe's state", () => {
  // Real processes on purpose (a dependency's warning on a real stderr counts): 20 spawns need more than the
  // default 60 s on a loaded 2-core machine. Commands that only read, or that touch nothing the others use, run
  // side by side; each step that changes what a later one sees finishes first.
  it("drives every command with a canary subject and prompt; stderr and state never hold them", {
    timeout: 300_000,
  }, async () => {
    const p = makeProject({ logs: 20 });
    const db = new Database(p.db);
    db.prepare("insert into logs values (?, ?, ?, ?)").run(
      1000,
      SUBJECT,
      PROMPT,
      ts(new Date(Date.now() - 40 * 86_400_000)),
    );
    db.prepare("insert into logs values (?, ?, ?, ?)").run(1001, SUBJECT, PROMPT, ts(new Date()));
    db.close();
    writeFileSync(join(p.dir, "subjects.txt"), `${SUBJECT}\n`);
    const runs: [string[], CliResult][] = [];
    const run = async (args: string[]) => {
      const r = await letheSpawn(args, p.dir);
      runs.push([args, r]);
      return r;
    };
    const together = (...commands: string[][]) => Promise.all(commands.map(run));
    await run(["plan", "--json"]);
    await run(["hold", "add", "--subject", SUBJECT, "--reason", "test hold"]);
    await run(["apply", "--json"]);
    const [, list] = await together(["audit", "log", "--subject", SUBJECT, "--json"], ["hold", "list", "--json"]);
    const holds = list?.json as { holds: { id: string }[] };
    for (const h of holds?.holds ?? []) await run(["hold", "release", h.id]);
    await run(["erase", SUBJECT, "--json"]);
    const req = (await run(["requests", "create", SUBJECT, "--reason", "ticket 1", "--json"])).json as { id: string };
    expect(req?.id).toBeTypeOf("string");
    await together(["requests", "list", "--json"], ["requests", "process", req.id, "--json"]);
    await together(
      ["requests", "show", req.id, "--json"],
      ["requests", "receipt", req.id, "--out", join(p.dir, "receipt.json")],
    );
    await run(["erase", "--from", "subjects.txt", "--yes", "--json"]);
    await together(["discover", "--json"], ["janitor", "--json"], ["token", "create", "--scopes", "read", "--json"]);
    // Last, so that they see everything the commands before wrote.
    await together(
      ["audit", "verify", "--json"],
      ["audit", "export", "--format", "jsonl"],
      ["audit", "export", "--format", "csv"],
      ["token", "list", "--json"],
    );
    expect(runs).toHaveLength(20); // every command above ran (one `hold release` per hold: one)
    for (const [args, r] of runs) {
      expect(r.stderr, `stderr of lethe ${args.join(" ")}`).not.toContain(SUBJECT);
      expect(r.stderr, `stderr of lethe ${args.join(" ")}`).not.toContain(PROMPT);
      expect(r.code, `exit of lethe ${args.join(" ")}: ${r.stderr}`).toBeLessThan(5);
    }
    // The ledger, exports and receipts answer with HMACs only.
    for (const [args, r] of runs.filter(([a]) => a[0] === "audit" || a[0] === "hold")) {
      expect(r.stdout, `stdout of lethe ${args.join(" ")}`).not.toContain(SUBJECT);
    }
    for (const f of filesUnder(join(p.dir, ".lethe"))) {
      const bytes = readFileSync(f);
      expect(bytes.includes(SUBJECT), `${f} holds the raw subject id`).toBe(false);
      expect(bytes.includes(PROMPT), `${f} holds the prompt`).toBe(false);
    }
    // And the erased prompt is gone from the target database file and its WAL.
    for (const f of readdirSync(p.dir).filter((n) => n.startsWith("app.db"))) {
      expect(readFileSync(join(p.dir, f)).includes(PROMPT), `${f} still holds the erased prompt`).toBe(false);
    }
  });
});
