import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openLethe } from "../../src/lethe.js";
import { letheIn, writeConfig } from "../helpers/cli.js";

// A local user who can write inside an fs root swaps a directory for a symlink to a folder outside the root
// while lethe (as root) deletes or shreds. Whatever the interleaving, nothing outside the root may change:
// every component below the root is opened without following links and names are removed relative to the
// descriptor that was checked (src/safe-fs). Runs on tmpfs and on a disk filesystem.
const FILES = 40;
const ROUNDS = 8;
const OLD = new Date(Date.now() - 400 * 86_400_000);
const swappers: ChildProcess[] = [];
afterEach(() => {
  for (const s of swappers.splice(0)) s.kill("SIGKILL");
});

const BASES = [["disk", tmpdir()] as const, ...(existsSync("/dev/shm") ? [["tmpfs", "/dev/shm"] as const] : [])];

function digest(dir: string): string {
  const h = createHash("sha256");
  for (const f of readdirSync(dir).sort()) h.update(f).update(readFileSync(join(dir, f)));
  return h.digest("hex");
}

/** Fills `dir` with FILES old `.pt` files. */
function fill(dir: string, content: string): void {
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < FILES; i++) {
    writeFileSync(join(dir, `f${i}.pt`), `${content} ${i}`);
    utimesSync(join(dir, `f${i}.pt`), OLD, OLD);
  }
}

/**
 * Another process that, as fast as it can, renames `dir` away, puts a symlink to `target` in its place, and
 * puts the directory back, forever.
 */
function swapper(dir: string, target: string): ChildProcess {
  const script = `const fs = require("fs");
    const [dir, target] = process.argv.slice(1);
    for (;;) {
      try { fs.renameSync(dir, dir + ".real"); fs.symlinkSync(target, dir); } catch {}
      try { fs.unlinkSync(dir); fs.renameSync(dir + ".real", dir); } catch {}
    }`;
  const p = spawn(process.execPath, ["-e", script, dir, target], { stdio: "ignore" });
  swappers.push(p);
  return p;
}

function stop(p: ChildProcess, dir: string): Promise<void> {
  return new Promise((resolve) => {
    p.on("exit", () => {
      // Put the tree back as it was: the real directory under its own name, no link.
      if (lstatSync(dir, { throwIfNoEntry: false })?.isSymbolicLink()) unlinkSync(dir);
      if (existsSync(`${dir}.real`)) renameSync(`${dir}.real`, dir);
      resolve();
    });
    p.kill("SIGKILL");
  });
}

function project(base: string, action: "delete" | "shred") {
  const dir = mkdtempSync(join(base, "lethe-swap-"));
  const root = join(dir, "root");
  const outside = join(dir, "outside");
  fill(outside, "precious");
  mkdirSync(join(root, "users"), { recursive: true });
  writeConfig(
    dir,
    `version: 1
state: ./.lethe
safety: { maxFraction: 1 }
stores:
  files: { kind: fs, root: ./root }
datasets:
  scans:
    store: files
    include: ["**/*.pt"]
    subjectFromPath: "users/{subject}/**"
    retention: 30d
    action: ${action}
    events: true
`,
  );
  return { dir, root, outside, before: digest(outside) };
}

describe.each(BASES)("a directory swapped for a link mid-deletion (%s)", (_kind, base) => {
  for (const action of ["shred", "delete"] as const) {
    it(`apply (${action}): nothing outside the root changes, in any interleaving`, async () => {
      const p = project(base, action);
      try {
        for (let round = 0; round < ROUNDS; round++) {
          const batch = join(p.root, "users", "alice");
          fill(batch, "in root");
          const s = swapper(batch, p.outside);
          const r = await letheIn(["apply", "--json"], p.dir);
          await stop(s, batch);
          expect([0, 1, 3]).toContain(r.code); // done, some items failed (PATH_CHANGED), or refused by the safety limit
          expect(digest(p.outside), `round ${round}`).toBe(p.before);
        }
      } finally {
        rmSync(p.dir, { recursive: true, force: true });
      }
    }, 60_000);
  }

  it("erase and inference-complete events: nothing outside the root changes", async () => {
    const p = project(base, "shred");
    try {
      for (let round = 0; round < ROUNDS / 2; round++) {
        const batch = join(p.root, "users", "alice");
        fill(batch, "in root");
        let s = swapper(batch, p.outside);
        const r = await letheIn(["erase", "alice", "--yes", "--json"], p.dir);
        await stop(s, batch);
        expect([0, 1, 3]).toContain(r.code);
        expect(digest(p.outside), `erase round ${round}`).toBe(p.before);

        fill(batch, "in root");
        s = swapper(batch, p.outside);
        const lethe = await openLethe(join(p.dir, "lethe.yaml"), { logger: { warn: () => {}, info: () => {} } });
        try {
          const artifacts = Array.from({ length: FILES }, (_, i) => ({
            dataset: "scans",
            key: `users/alice/f${i}.pt`,
          }));
          await lethe.complete({ requestId: `req-${round}`, artifacts }).catch(() => undefined);
        } finally {
          await stop(s, batch);
          await lethe.close();
        }
        expect(digest(p.outside), `event round ${round}`).toBe(p.before);
      }
    } finally {
      rmSync(p.dir, { recursive: true, force: true });
    }
  }, 120_000);
});
