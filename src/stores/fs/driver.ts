import { closeSync, constants, lstatSync, openSync, readSync, statSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import type { DatasetConfig, StoreConfig } from "../../config/types.js";
import { LetheError } from "../../core/errors.js";
import { safeReason } from "../../core/safe-reason.js";
import type { FileRemoval, Issues, StoreDriver } from "../../core/types.js";
import { shredFile } from "../../crypto/shred.js";
import { discoverPaths } from "../discover-paths.js";
import { FsDataset } from "./fs-dataset.js";
import { insideRoot } from "./safe-path.js";
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
  return {
    config,
    async dataset(ds: DatasetConfig, _issues: Issues) {
      return new FsDataset(ds, config.root);
    },
    async removeFile(path: string, action: "delete" | "shred"): Promise<FileRemoval> {
      const abs = insideRoot(config.root, path);
      if (!abs) return { ok: false, reason: `path resolves outside store ${config.name}'s root; left alone` };
      let st: ReturnType<typeof lstatSync>;
      try {
        st = lstatSync(abs);
      } catch {
        return { ok: true, missing: true };
      }
      if (st.isSymbolicLink()) return { ok: false, reason: "is a symbolic link; not followed, left alone" };
      if (!st.isFile()) return { ok: false, reason: "is not a regular file; left alone" };
      try {
        if (action === "shred") shredFile(abs);
        else unlinkSync(abs);
        return { ok: true, shredded: action === "shred" };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return { ok: true, missing: true };
        return { ok: false, reason: safeReason(err) };
      }
    },
    async discover(req) {
      const files = (function* () {
        for (const f of walkFiles(config.root, () => true)) yield { rel: f.rel, size: f.stat.size };
      })();
      return discoverPaths(files, { ...req, kind: "files", read: (e, max) => readHead(config.root, e.rel, max) });
    },
    async close() {},
  };
}

/** The first `max` bytes of a regular file under the root, never through a symbolic link. */
function readHead(root: string, rel: string, max: number): Promise<Buffer | undefined> {
  let fd: number | undefined;
  try {
    fd = openSync(join(root, rel), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    const buf = Buffer.alloc(max);
    const n = readSync(fd, buf, 0, max, 0);
    return Promise.resolve(buf.subarray(0, n));
  } catch {
    return Promise.resolve(undefined);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
