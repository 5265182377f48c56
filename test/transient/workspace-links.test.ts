import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { LetheError } from "../../src/core/errors.js";
import type { Lethe } from "../../src/lethe.js";
import { ioError } from "../../src/transient/file-io.js";
import { makeTransientProject, useTransientProjects } from "./helpers.js";

// A local user who can write under the transient root swaps a path component while a workspace runs. The
// cleanup, ws.write, ws.read, the streams, ws.delete and ws.path never follow a link or act on a directory
// lethe did not create: file operations go through the workspace directory's own descriptor (opened from the
// root without following a link when the workspace was created), and ws.path hands out a path only after
// walking it from the root, link-free, to this workspace's plain/.
const { track } = useTransientProjects();

/** A project whose warnings are kept, and an outside folder a hostile user points links at. */
async function project() {
  const warnings: string[] = [];
  const p = makeTransientProject();
  const lethe = track(await p.open({ logger: { warn: (m: string) => warnings.push(m), info: () => undefined } }));
  const outside = join(p.dir, "outside");
  mkdirSync(outside);
  return { p, lethe, outside, warnings };
}

/** Plants a victim workspace-shaped tree `<dir>/<id>/…` and returns a check that it is untouched. */
function victim(dir: string, id: string): () => void {
  const target = join(dir, id);
  mkdirSync(join(target, "plain"), { recursive: true });
  writeFileSync(join(target, "important.db"), "VICTIM-IMPORTANT");
  writeFileSync(join(target, "plain", "x"), "VICTIM2");
  return () => {
    expect(readFileSync(join(target, "important.db"), "utf8")).toBe("VICTIM-IMPORTANT");
    expect(readFileSync(join(target, "plain", "x"), "utf8")).toBe("VICTIM2");
  };
}

async function leftForJanitor(lethe: Lethe, id: string, warnings: string[], secret: string[]) {
  expect((await lethe.state.db.selectFrom("leases").select("id").execute()).map((l) => l.id)).toEqual([id]);
  expect((await lethe.audit.log({})).filter((e) => e.action === "workspace_closed")).toEqual([]);
  const warning = warnings.find((w) => w.includes("cleanup incomplete"));
  expect(warning).toContain("PATH_CHANGED");
  for (const s of secret) expect(warning).not.toContain(s);
}

describe("workspace cleanup never follows a swapped path", () => {
  it("a namespace swapped for a link to an outside folder: nothing outside touched, lease left for the janitor", async () => {
    const { p, lethe, outside, warnings } = await project();
    let id = "";
    let ns = "";
    let untouched: () => void = () => undefined;
    await lethe.transient("req-3", async (ws) => {
      await ws.write("in.json", "PROMPT");
      id = ws.id;
      ns = dirname(ws.dir);
      renameSync(ns, `${ns}.moved`);
      symlinkSync(outside, ns);
      untouched = victim(outside, id);
    });
    untouched();
    // The real workspace is left as it was (ciphertext only), not lost track of.
    expect(readdirSync(join(`${ns}.moved`, id))).toHaveLength(1);
    await leftForJanitor(lethe, id, warnings, [outside, p.root]);
  });

  it("a namespace swapped for another real directory (same name, different inode) is refused too", async () => {
    const { lethe, warnings } = await project();
    let id = "";
    let untouched: () => void = () => undefined;
    await lethe.transient("req-4", async (ws) => {
      await ws.write("in.json", "PROMPT");
      id = ws.id;
      const ns = dirname(ws.dir);
      renameSync(ns, `${ns}.moved`);
      mkdirSync(ns, { mode: 0o700 });
      untouched = victim(ns, id);
    });
    untouched();
    await leftForJanitor(lethe, id, warnings, []);
  });

  it("a workspace directory swapped for another directory under its name is refused", async () => {
    const { lethe, warnings } = await project();
    let id = "";
    let untouched: () => void = () => undefined;
    await lethe.transient("req-5", async (ws) => {
      await ws.write("in.json", "PROMPT");
      id = ws.id;
      renameSync(ws.dir, `${ws.dir}.moved`);
      untouched = victim(dirname(ws.dir), basename(ws.dir));
    });
    untouched();
    await leftForJanitor(lethe, id, warnings, []);
  });
});

describe("workspace file access never follows a planted link", () => {
  it("ws.delete through a namespace swapped for a link never overwrites the outside file of the same name", async () => {
    const { lethe, outside } = await project();
    const r = await lethe.transient("req-6", async (ws) => {
      await ws.write("a", "secret");
      const [file] = readdirSync(ws.dir) as [string];
      const ns = dirname(ws.dir);
      renameSync(ns, `${ns}.moved`);
      symlinkSync(outside, ns);
      mkdirSync(join(outside, ws.id));
      writeFileSync(join(outside, ws.id, file), "VICTIM");
      // The workspace's own directory (now under ns.moved) is where the delete acts.
      const deleted = await ws.delete("a");
      return { deleted, file, id: ws.id, real: readdirSync(join(`${ns}.moved`, ws.id)) };
    });
    expect(r.deleted).toBe(true);
    expect(r.real).toEqual([]);
    expect(readFileSync(join(outside, r.id, r.file), "utf8")).toBe("VICTIM");
  });

  /** Moves the namespace away and puts a link to `outside` in its place; returns where the real one went. */
  function swapNamespace(ws: { dir: string }, outside: string): string {
    const ns = dirname(ws.dir);
    renameSync(ns, `${ns}.moved`);
    symlinkSync(outside, ns);
    return join(`${ns}.moved`, basename(ws.dir));
  }

  /** Moves the workspace directory away and puts a link to `outside` in its place. */
  function swapWorkspace(ws: { dir: string }, outside: string): string {
    renameSync(ws.dir, `${ws.dir}.moved`);
    symlinkSync(outside, ws.dir);
    return `${ws.dir}.moved`;
  }

  for (const [what, swap] of [
    ["namespace", swapNamespace],
    ["workspace directory", swapWorkspace],
  ] as const)
    it(`ws.write, ws.read and the streams after the ${what} was swapped for a link: nothing outside created or truncated`, async () => {
      const { lethe, outside } = await project();
      const r = await lethe.transient(`req-w-${what}`, async (ws) => {
        await ws.write("a", "first");
        const [file] = readdirSync(ws.dir) as [string];
        const real = swap(ws, outside);
        // A victim under the very names a string path would now lead to.
        const victimDir = what === "namespace" ? join(outside, ws.id) : outside;
        mkdirSync(victimDir, { recursive: true });
        writeFileSync(join(victimDir, file), "VICTIM");
        const before = readdirSync(victimDir).sort();
        await ws.write("a", "second");
        await ws.write("b", "new file");
        const w = ws.createWriteStream("c");
        await new Promise<void>((ok, ko) => w.end("streamed", () => ok()).once("error", ko));
        let streamed = "";
        for await (const chunk of ws.createReadStream("c")) streamed += chunk;
        const read = (await ws.read("a")).toString();
        return { read, streamed, real: readdirSync(real), before, victimDir, file };
      });
      expect(r.read).toBe("second");
      expect(r.streamed).toBe("streamed");
      expect(r.real).toHaveLength(3);
      expect(readdirSync(r.victimDir).sort()).toEqual(r.before);
      expect(readFileSync(join(r.victimDir, r.file), "utf8")).toBe("VICTIM");
    });

  for (const [what, swap] of [
    ["namespace", swapNamespace],
    ["workspace directory", swapWorkspace],
  ] as const)
    it(`ws.path after the ${what} was swapped for a link: refused, and no plain/ made outside`, async () => {
      const { lethe, outside } = await project();
      const r = await lethe.transient(`req-p-${what}`, async (ws) => {
        if (what === "namespace") mkdirSync(join(outside, ws.id));
        swap(ws, outside);
        const err = await ws.path("a.txt").then(
          (v) => ({ v }),
          (e: { code?: string; message: string }) => ({ code: e.code, message: e.message }),
        );
        return { err, id: ws.id };
      });
      expect(r.err).toMatchObject({ code: "CONFLICT" });
      expect((r.err as { message: string }).message).not.toContain(outside);
      expect(readdirSync(outside)).toEqual(what === "namespace" ? [r.id] : []);
      if (what === "namespace") expect(readdirSync(join(outside, r.id))).toEqual([]);
    });

  it("ws.path after the workspace directory was swapped for another real directory: refused", async () => {
    const { lethe } = await project();
    const r = await lethe.transient("req-p-dir", async (ws) => {
      renameSync(ws.dir, `${ws.dir}.moved`);
      mkdirSync(ws.dir, { mode: 0o700 });
      const err = await ws.path("a.txt").then(
        () => undefined,
        (e: { code?: string }) => e.code,
      );
      return { err, planted: readdirSync(ws.dir) };
    });
    expect(r.err).toBe("CONFLICT");
    expect(r.planted).toEqual([]);
  });

  it("ws.path refuses when plain/ is a link to an outside folder", async () => {
    const { lethe, outside } = await project();
    const err = await lethe
      .transient("req-7", async (ws) => {
        symlinkSync(outside, join(ws.dir, "plain"));
        return ws.path("a.txt");
      })
      .then(
        (v) => ({ v }),
        (e: { code?: string; message?: string }) => e,
      );
    expect(err).toMatchObject({ code: "CONFLICT" });
    expect((err as Error).message).not.toContain(outside);
    expect(readdirSync(outside)).toEqual([]);
  });

  it("ws.write / ws.read on a planted link: a coded error that names no path", async () => {
    const { lethe, outside } = await project();
    writeFileSync(join(outside, "target"), "x");
    const errors = await lethe.transient("req-8", async (ws) => {
      await ws.write("a", "first");
      for (const f of readdirSync(ws.dir)) {
        renameSync(join(ws.dir, f), join(outside, "moved"));
        symlinkSync(join(outside, "target"), join(ws.dir, f));
      }
      const seen: unknown[] = [];
      await ws.write("a", "second").catch((e: unknown) => seen.push(e));
      await ws.read("a").catch((e: unknown) => seen.push(e));
      return seen.map((e) => ({ code: (e as { code?: string }).code, message: (e as Error).message }));
    });
    expect(errors).toEqual([
      { code: "CONFLICT", message: expect.stringContaining("ELOOP") },
      { code: "CONFLICT", message: expect.stringContaining("ELOOP") },
    ]);
    for (const e of errors) expect(e.message).not.toContain("/");
    expect(readFileSync(join(outside, "target"), "utf8")).toBe("x");
    expect(existsSync(join(outside, "target"))).toBe(true);
  });
});

describe("setting a workspace up after a swap", () => {
  it("lethe.transient() after the namespace was swapped for a link: a coded CONFLICT naming no path, nothing made outside", async () => {
    const { lethe, outside } = await project();
    let ns = "";
    await lethe.transient("warm-up", (ws) => {
      ns = dirname(ws.dir);
    });
    renameSync(ns, `${ns}.moved`);
    symlinkSync(outside, ns);
    let ran = false;
    const err = await lethe
      .transient("req-9", () => {
        ran = true;
      })
      .then(
        () => undefined,
        (e: { code?: string; message: string; name?: string }) => e,
      );
    expect(ran).toBe(false);
    expect(err).toMatchObject({ name: "LetheError", code: "CONFLICT" });
    expect(err?.message).toContain("creating the workspace directory");
    expect(err?.message).not.toContain("removed");
    expect(err?.message).not.toContain("/");
    expect(readdirSync(outside)).toEqual([]);
  });

  it("an errno failure while setting up is a coded STATE_ERROR whose message names no /proc/self/fd path", () => {
    const raw = Object.assign(new Error("EACCES: permission denied, mkdir '/proc/self/fd/23/ws_0123'"), {
      code: "EACCES",
    });
    const err = ioError(raw, "creating the workspace directory") as LetheError;
    expect(err).toBeInstanceOf(LetheError);
    expect(err.code).toBe("STATE_ERROR");
    expect(err.message).toBe("creating the workspace directory failed (EACCES)");
  });
});
