import { closeSync, constants, openSync, readSync, statSync } from "node:fs";
import type { DatasetConfig, StoreConfig } from "../../config/types.js";
import { LetheError } from "../../core/errors.js";
import type { FileRemoval, Issues, StoreDriver } from "../../core/types.js";
import { at, DirAnchor, openBelow } from "../../safe-fs/anchor.js";
import { removeAt } from "../../safe-fs/remove.js";
import { discoverPaths } from "../discover-paths.js";
import { FsDataset } from "./fs-dataset.js";
import { relativeInside } from "./safe-path.js";
import { FsSweeper } from "./sweeper.js";
import { UnreadableDirs } from "./unreadable-dirs.js";
import { walkFiles } from "./walk.js";

/**
 * The `fs` store: a directory root. It also removes files linked from rows
 * of sql datasets (`files: { column, store }`), only inside its root.
 *
 * @example
 * const store = await createFsStore({ name: "models", kind: "fs", root: "/data/models" });
 */
export async function createFsStore(config: StoreConfig): Promise<StoreDriver> {
  if (config.kind !== "fs") throw new Error("createFsStore needs an fs store");
  try {
    if (!statSync(config.root).isDirectory()) throw new Error("not a directory");
  } catch {
    throw new LetheError("CONFIG_INVALID", `stores.${config.name}.root: not an existing directory: ${config.root}`);
  }
  const sweeper = new FsSweeper();
  return {
    config,
    async dataset(ds: DatasetConfig, _issues: Issues) {
      return new FsDataset(ds, config.root, sweeper);
    },
    async removeFile(path: string, action: "delete" | "shred"): Promise<FileRemoval> {
      const rel = relativeInside(config.root, path);
      if (rel === undefined)
        return { ok: false, reason: "OUTSIDE_ROOT: the path resolves outside the store's root; left alone" };
      const anchor = new DirAnchor(config.root);
      try {
        const r = removeAt(anchor, rel, action);
        if (!r.ok) return { ok: false, reason: r.reason };
        if ("missing" in r) return { ok: true, missing: true };
        return { ok: true, shredded: action === "shred" };
      } finally {
        anchor.close();
      }
    },
    async discover(req) {
      const unreadable = new UnreadableDirs(req.mask);
      const files = (function* () {
        for (const f of walkFiles(config.root, () => true, unreadable.add)) yield { rel: f.rel, size: f.stat.size };
      })();
      const tables = await discoverPaths(files, {
        ...req,
        kind: "files",
        read: (e, max) => readHead(config.root, e.rel, max),
      });
      return [...tables, ...unreadable.tables()];
    },
    async close() {
      await sweeper.close();
    },
  };
}

/**
 * The first `max` bytes of a regular file under the root, never through a symbolic link: its folders are
 * opened one at a time from the root without following links (safe-fs/anchor.ts), so a folder swapped for a
 * link to /etc between the walk and the read is refused, not read through.
 */
function readHead(root: string, rel: string, max: number): Promise<Buffer | undefined> {
  let fd: number | undefined;
  try {
    const parts = rel.split("/");
    const name = parts.pop() as string;
    const dir = openBelow(
      root,
      parts.map((p) => ({ name: p })),
      { followRoot: true },
    );
    try {
      fd = openSync(at(dir, name), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } finally {
      closeSync(dir);
    }
    const buf = Buffer.alloc(max);
    const n = readSync(fd, buf, 0, max, 0);
    return Promise.resolve(buf.subarray(0, n));
  } catch {
    return Promise.resolve(undefined);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
