import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { Item } from "../../src/core/types.js";
import { createFsStore } from "../../src/stores/fs/driver.js";
import { collectIssues, datasetConfig } from "../helpers/config.js";
import { relativeFilesUnder } from "../helpers/files.js";
import { type ConformanceFixture, runStoreConformance } from "./store-conformance.js";

const DAY = 86_400;

async function fsFixture(): Promise<ConformanceFixture> {
  const root = mkdtempSync(join(tmpdir(), "lethe-conf-fs-"));
  const outside = mkdtempSync(join(tmpdir(), "lethe-conf-outside-"));
  const store = await createFsStore({ name: "files", kind: "fs", root });
  const ds = datasetConfig({
    name: "uploads",
    store: "files",
    storeKind: "fs",
    include: ["users/**/*.bin"],
    subjectFromPath: "users/{subject}/**",
    retention: { kind: "duration", seconds: DAY },
  });
  const dataset = await store.dataset(ds, collectIssues());
  if (!dataset) throw new Error("fs dataset did not open");
  const rel = new Map<string, string>();
  return {
    store,
    dataset,
    async seed(items) {
      const now = new Date();
      // A config beside the data must never count or be touched.
      mkdirSync(join(root, "users"), { recursive: true });
      writeFileSync(join(root, "users", "README.md"), "keep me");
      for (const it of items) {
        const p = `users/${it.subject ?? "none"}/${it.name}.bin`;
        rel.set(it.name, p);
        mkdirSync(dirname(join(root, p)), { recursive: true });
        writeFileSync(join(root, p), it.name);
        const t = new Date(now.getTime() - (it.expired ? 2 * DAY : DAY / 2) * 1000);
        utimesSync(join(root, p), t, t);
      }
      return now;
    },
    async present() {
      return relativeFilesUnder(root)
        .filter((p) => p.endsWith(".bin"))
        .map((p) => p.split("/").pop()?.replace(".bin", "") ?? p);
    },
    nameOf(item: Item) {
      return String(item.key).split("/").pop()?.replace(".bin", "") ?? String(item.key);
    },
    async removeBehindBack(name) {
      rmSync(join(root, rel.get(name) as string));
    },
    hooks: {
      foreignKeys: ["users/alice/notes.txt", "../outside/users/alice/a1.bin", "/etc/users/x.bin", ""],
      async plantRefused() {
        // A symlink under a matched name, pointing at a file outside the root that must survive.
        writeFileSync(join(outside, "victim.bin"), "outside");
        symlinkSync(join(outside, "victim.bin"), join(root, "users", "alice", "link.bin"));
        mkdirSync(join(root, "users", "alice", "dir.bin"));
        return "users/alice/link.bin";
      },
      async hideSomething() {
        // Root reads any directory whatever its mode, so the unreadable part is one whose path is longer than
        // PATH_MAX (ENAMETOOLONG): the walk can list its parent but never open it.
        const seg = "d".repeat(250);
        spawnSync("sh", [
          "-c",
          `cd "$0" && for i in $(seq 20); do mkdir ${seg} && cd ${seg}; done`,
          join(root, "users"),
        ]);
      },
      async looseFile(p) {
        mkdirSync(dirname(join(root, p)), { recursive: true });
        writeFileSync(join(root, p), "linked");
        return p;
      },
      async exists(p) {
        return existsSync(p.startsWith("/") ? p : join(root, p));
      },
      async outsideFile() {
        writeFileSync(join(outside, "keep.pt"), "outside");
        return `../${outside.split("/").pop()}/keep.pt`;
      },
    },
    async close() {
      statSync(join(root, "users", "README.md"));
      if (existsSync(join(outside, "victim.bin"))) statSync(join(outside, "victim.bin"));
      rmSync(outside, { recursive: true, force: true });
      spawnSync("rm", ["-rf", root]); // GNU rm walks deeper than PATH_MAX (see hideSomething)
      await store.close();
    },
  };
}

runStoreConformance("fs", fsFixture, {
  capabilities: [
    "ownsKey",
    "subjectOf",
    "scanProblems",
    "refusedKeys",
    "list",
    "expiryHistogram",
    "removeFile",
    "discover",
  ],
});
