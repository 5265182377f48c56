import { spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../helpers/cli.js";

const SHRED = resolve(import.meta.dirname, "../../dist/transient/workspace-shred.js");

/**
 * Runs `script` in a node child whose descriptor limit is 256 (soft and hard,
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

/** Fills every free descriptor, starts the shred, frees them 300 ms later, prints the result. */
const SCRIPT = `
import { openSync, closeSync } from "node:fs";
const { shredWorkspace } = await import(process.argv[1]);
const ref = JSON.parse(process.argv[2]);
const held = [];
for (;;) { try { held.push(openSync("/dev/null", "r")); } catch (e) { if (e.code !== "EMFILE") throw e; break; } }
const pending = shredWorkspace(ref, false);
setTimeout(() => { for (const fd of held) closeSync(fd); }, 300);
const r = await pending;
console.log(JSON.stringify({ held: held.length, removed: r.removed, errors: r.errors, files: r.files }));
`;

describe("a workspace cleanup during a shortage of file descriptors", () => {
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
    expect(r).toMatchObject({ removed: true, errors: [], files: 2 });
    expect(existsSync(dir)).toBe(false);
  });
});
