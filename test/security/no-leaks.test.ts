import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { type CliResult, lethe } from "../helpers/cli.js";
import { filesUnder } from "../helpers/files.js";
import { makeProject, ts } from "../helpers/project.js";

// Distinctive values: if they show up anywhere they must not, nothing else could have put them there.
const SUBJECT = "canary-subject-7f3a91";
const PROMPT = "canary prompt: my diagnosis is zebra-42-quokka";

describe("no raw subject ids or prompts in logs or lethe's state", () => {
  // Real processes on purpose (a dependency's warning on a real stderr counts): 23 spawns need more than the
  // default 60 s on a loaded 2-core machine.
  it("drives every command with a canary subject and prompt; stderr and state never hold them", {
    timeout: 300_000,
  }, () => {
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
    const run = (args: string[]) => {
      const r = lethe(args, p.dir);
      runs.push([args, r]);
      return r;
    };
    run(["plan", "--json"]);
    run(["hold", "add", "--subject", SUBJECT, "--reason", "test hold"]);
    run(["hold", "list", "--json"]);
    run(["apply", "--json"]);
    run(["audit", "log", "--subject", SUBJECT, "--json"]);
    const holds = run(["hold", "list", "--json"]).json as { holds: { id: string }[] };
    for (const h of holds?.holds ?? []) run(["hold", "release", h.id]);
    run(["erase", SUBJECT, "--json"]);
    const req = run(["requests", "create", SUBJECT, "--reason", "ticket 1", "--json"]).json as
      | { id?: string }
      | undefined;
    run(["requests", "list", "--json"]);
    if (req?.id) {
      run(["requests", "process", req.id, "--json"]);
      run(["requests", "show", req.id, "--json"]);
      run(["requests", "receipt", req.id, "--out", join(p.dir, "receipt.json")]);
    }
    run(["erase", "--from", "subjects.txt", "--yes", "--json"]);
    run(["discover", "--json"]);
    run(["janitor", "--json"]);
    run(["audit", "verify", "--json"]);
    run(["audit", "export", "--format", "jsonl"]);
    run(["audit", "export", "--format", "csv"]);
    run(["token", "create", "--scopes", "read", "--json"]);
    run(["token", "list", "--json"]);
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
