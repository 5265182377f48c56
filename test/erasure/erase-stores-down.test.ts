import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { letheIn, tempDir } from "../helpers/cli.js";

/** A project whose stores and datasets are the given YAML blocks. */
function project(stores: string, datasets: string): string {
  const dir = tempDir("lethe-erase-down-");
  writeFileSync(join(dir, "lethe.yaml"), `version: 1\nstate: ./.lethe\nstores:\n${stores}datasets:\n${datasets}`);
  return dir;
}

// Port 1 refuses connections at once: these stores are down, nothing waits on a timeout.
const redis = `  cache: { kind: redis, url: "redis://:s3cret-pw@127.0.0.1:1/0" }\n`;
const prompts = `  prompts: { store: cache, pattern: "c:p:{subject}:*", retention: 7d }\n`;
const mysql = `  db: { kind: sql, url: "mysql://root:s3cret-pw@127.0.0.1:1/app" }\n`;
const events = `  ev: { store: db, table: ev, key: id, subject: user_id, createdAt: created_at, retention: 30d }\n`;

describe("erase while the stores with subjects are down", () => {
  for (const [kind, stores, datasets, store, dataset] of [
    ["Redis", redis, prompts, "cache", "prompts"],
    ["MariaDB", mysql, events, "db", "ev"],
  ] as const)
    it(`${kind} down and no other subject dataset: the store is named, exit 1 (not a usage error)`, async () => {
      const dir = project(stores, datasets);
      const r = await letheIn(["erase", "alice@example.com", "--yes", "--json"], dir);
      expect(r.code).toBe(1);
      const out = `${r.stdout}${r.stderr}`;
      expect(out).toMatch(/STORE_ERROR/);
      expect(out).toContain(`dataset ${dataset}: store ${store}`);
      expect(out).not.toMatch(/no dataset in the data map has a subject|alice|s3cret/);
    });

  it("a Redis subject dataset down beside a reachable one is reported unavailable; the run is partial (exit 1)", async () => {
    const dir = project(
      `${redis}  files: { kind: fs, root: ./files }\n`,
      `${prompts}  docs: { store: files, include: ["users/**"], subjectFromPath: "users/{subject}/**", retention: 7d }\n`,
    );
    mkdirSync(join(dir, "files/users/alice"), { recursive: true });
    writeFileSync(join(dir, "files/users/alice/a.txt"), "x");
    const r = await letheIn(["erase", "alice", "--yes", "--json"], dir);
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({ unavailable: [{ dataset: "prompts", store: "cache" }] });
  });
});
