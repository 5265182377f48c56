import { spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../helpers/cli.js";

const SHRED = resolve(import.meta.dirname, "../../dist/transient/workspace-shred.js");
const SHRED_TREE = resolve(import.meta.dirname, "../../dist/transient/shred-tree.js");

/**
 * Runs `script` (given `args` as process.argv[1..]) in a node child whose descriptor limit is 256 (soft and hard,
 * so node cannot raise it): the shortage is the child's alone, never the test
 * runner's.
 */
function withFewDescriptors(script: string, args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((ok) => {
    const proc = spawn(
      "bash",
      ["-c", 'ulimit -n 256 && exec "$0" --input-type=module -e "$1" "$2" "$3"', process.execPath, script, ...args],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    proc.stdout.on("data", (d) => (out += d));
    proc.stderr.on("data", (d) => (out += d));
    proc.on("exit", (code) => ok({ code, out }));
  });
}

/**
 * Fills every free descriptor and shreds on an injected clock: time advances only by what the shred
 * sleeps, and its first pause frees the descriptors (the shortage passes while it backs off; no wall-clock wait).
 */
const SCRIPT = `
import { openSync, closeSync } from "node:fs";
const { shredWorkspace } = await import(process.argv[1]);
const ref = JSON.parse(process.argv[2]);
const held = [];
for (;;) { try { held.push(openSync("/dev/null", "r")); } catch (e) { if (e.code !== "EMFILE") throw e; break; } }
const count = held.length;
let t = 0;
let pauses = 0;
const clock = {
  now: () => t,
  sleep: async (ms) => { t += ms; pauses++; for (const fd of held.splice(0)) closeSync(fd); },
};
const r = await shredWorkspace(ref, false, clock);
console.log(JSON.stringify({ held: count, pauses, removed: r.removed, errors: r.errors, files: r.files }));
`;

/**
 * Fills every free descriptor and shreds with a clock that says 20 s have passed since it was first read:
 * the first read is the shred's own, so 20 s of "queuing" before the first attempt is modelled when the
 * clock starts before the attempt, and none when it starts at the first failure. The first pause frees
 * the descriptors (no wall-clock wait).
 */
const QUEUED_SCRIPT = `
import { openSync, closeSync } from "node:fs";
const { shredWorkspace } = await import(process.argv[1]);
const ref = JSON.parse(process.argv[2]);
const held = [];
for (;;) { try { held.push(openSync("/dev/null", "r")); } catch (e) { if (e.code !== "EMFILE") throw e; break; } }
let reads = 0;
let pauses = 0;
const clock = {
  now: () => (reads++ === 0 ? 0 : 20_000),
  sleep: async () => { pauses++; for (const fd of held.splice(0)) closeSync(fd); },
};
const r = await shredWorkspace(ref, false, clock);
for (const fd of held) closeSync(fd);
console.log(JSON.stringify({ removed: r.removed, errors: r.errors, pauses }));
`;

describe("a workspace cleanup during a shortage of file descriptors", () => {
  it("counts the 10 s retry budget from the first failure, not from before it queued for the gate", async () => {
    const root = tempDir("lethe-shortage-");
    const ref = { root, namespace: "0123456789abcdef", id: "ws_11111111111111111111111111111111" };
    const dir = join(root, ref.namespace, ref.id);
    mkdirSync(join(dir, "nested"), { recursive: true });
    writeFileSync(join(dir, "nested", "patient-name.txt"), "plaintext");
    const { code, out } = await withFewDescriptors(QUEUED_SCRIPT, [SHRED, JSON.stringify(ref)]);
    expect(code, out).toBe(0);
    const r = JSON.parse(out.trim().split("\n").at(-1) as string);
    expect(r).toMatchObject({ removed: true, errors: [], pauses: 1 });
    expect(existsSync(dir)).toBe(false);
  });

  it("waits the shortage out and removes the workspace, instead of leaving it for the janitor", async () => {
    const root = tempDir("lethe-shortage-");
    const ref = { root, namespace: "0123456789abcdef", id: "ws_00000000000000000000000000000000" };
    const dir = join(root, ref.namespace, ref.id);
    mkdirSync(join(dir, "nested"), { recursive: true });
    writeFileSync(join(dir, "e-0001"), "ciphertext");
    writeFileSync(join(dir, "nested", "patient-name.txt"), "plaintext");
    const { code, out } = await withFewDescriptors(SCRIPT, [SHRED, JSON.stringify(ref)]);
    expect(code, out).toBe(0);
    const r = JSON.parse(out.trim().split("\n").at(-1) as string);
    expect(r.held).toBeGreaterThan(100);
    // One failed attempt during the shortage, one pause, then the whole workspace shredded.
    expect(r).toMatchObject({ removed: true, errors: [], files: 2, pauses: 1 });
    expect(existsSync(dir)).toBe(false);
  });

  it("a file whose overwrite runs out of descriptors mid-walk is left intact for a retry, never unlinked unshredded", async () => {
    const root = tempDir("lethe-shortage-walk-");
    const { code, out } = await withFewDescriptors(MID_WALK, [SHRED_TREE, root]);
    expect(code, out).toBe(0);
    const runs = JSON.parse(out.trim().split("\n").at(-1) as string) as MidWalkRun[];
    for (const run of runs)
      for (const f of run.files) {
        // Gone means overwritten first; still there means untouched (the retry or the janitor shreds it).
        if (f.exists) expect(f.content, `run ${run.at}: ${f.name} left behind`).toBe(f.original);
        else expect(f.content, `run ${run.at}: ${f.name} was removed unshredded`).not.toBe(f.original);
      }
    // The shortage did land on a file's overwrite (after its directories were open), or this proves nothing.
    const hit = runs.filter((r) => r.errors.includes("a file inside: EMFILE"));
    expect(hit.length, out).toBeGreaterThan(0);
    for (const r of hit) expect(r).toMatchObject({ removed: false, unshredded: [] });
  });
});

interface MidWalkRun {
  at: number;
  removed: boolean;
  errors: string[];
  unshredded: string[];
  files: { name: string; exists: boolean; original: string; content: string }[];
}

/**
 * For N = 1…12: the shortage starts at the Nth fs request of the walk (an async_hooks init runs as the request
 * is made, before it reaches the kernel) and lasts until the shred returns, so across the runs it lands on each
 * step in turn: a directory's listing, a file's open, an unlink, a directory's removal. A descriptor kept open
 * on each file (taken before) reads what the inode holds afterwards, removed or not.
 */
const MID_WALK = `
import { createHook } from "node:async_hooks";
import { closeSync, constants, existsSync, mkdirSync, openSync, readSync, writeFileSync } from "node:fs";
import { join } from "node:path";
const { shredTree } = await import(process.argv[1]);
const root = process.argv[2];
const parent = openSync(root, constants.O_RDONLY | constants.O_DIRECTORY);
const runs = [];
for (let at = 1; at <= 12; at++) {
  const name = "ws_" + at;
  mkdirSync(join(root, name, "nested"), { recursive: true });
  const files = ["top.txt", "nested/deep.txt"].map((f) => {
    const original = "ORIGINAL " + f + " of run " + at;
    writeFileSync(join(root, name, f), original);
    return { name: f, original, keep: openSync(join(root, name, f), "r") };
  });
  const held = [];
  let seen = 0;
  const hook = createHook({
    init(_id, type) {
      if (type !== "FSREQPROMISE" || ++seen !== at) return;
      for (;;) { try { held.push(openSync("/dev/null", "r")); } catch { break; } }
    },
  });
  hook.enable();
  const r = await shredTree(parent, name);
  hook.disable();
  for (const fd of held.splice(0)) closeSync(fd);
  runs.push({
    at, removed: r.removed, errors: r.errors, unshredded: r.unshredded,
    files: files.map((f) => {
      const buf = Buffer.alloc(f.original.length);
      readSync(f.keep, buf, 0, buf.length, 0);
      closeSync(f.keep);
      return { name: f.name, original: f.original, exists: existsSync(join(root, name, f.name)), content: buf.toString("latin1") };
    }),
  });
}
console.log(JSON.stringify(runs));
`;
