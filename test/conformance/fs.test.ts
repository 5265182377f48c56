import { mkdirSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
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
    async close() {
      statSync(join(root, "users", "README.md"));
      await store.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

runStoreConformance("fs", fsFixture);
