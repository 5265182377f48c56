import { describe, expect, it } from "vitest";
import { letheIn, tempDir, writeConfig } from "../helpers/cli.js";

/** A password with characters a URL reserves, written without percent-encoding (a common mistake). */
const RAW_PASSWORD = "p@ss:w/o#rd?%&";

function project(url: string): string {
  const dir = tempDir("lethe-bad-url-");
  writeConfig(
    dir,
    `version: 1
stores:
  db: { kind: sql, url: env:QA_APPDB_URL }
datasets:
  t: { store: db, table: t, key: id, createdAt: created_at, retention: 30d }
`,
  );
  process.env.QA_APPDB_URL = url;
  return dir;
}

describe("a malformed sql store URL", () => {
  for (const scheme of ["mysql", "mariadb", "postgres"])
    it(`is a configuration error naming stores.db.url, not an unreachable store (${scheme})`, async () => {
      const dir = project(`${scheme}://app:${RAW_PASSWORD}@127.0.0.1:1/app`);
      for (const cmd of [
        ["plan", "--json"],
        ["apply", "--json"],
        ["apply", "--dataset", "t", "--json"],
      ]) {
        const r = await letheIn(cmd, dir);
        expect(r.code).toBe(2);
        expect(r.json).toMatchObject({ error: { code: "CONFIG_INVALID" } });
        const message = (r.json as { error: { message: string } }).error.message;
        expect(message).toMatch(/^stores\.db\.url: not a valid URL/);
        expect(r.stdout + r.stderr).not.toContain("w/o#rd");
      }
    });

  it("an option mysql2 refuses (?ssl=unknown-profile) is a configuration error too", async () => {
    const dir = project("mysql://app:secret@127.0.0.1:1/app?ssl=no-such-profile");
    const r = await letheIn(["plan", "--json"], dir);
    expect(r.code).toBe(2);
    expect(r.json).toMatchObject({
      error: { code: "CONFIG_INVALID", message: expect.stringMatching(/^stores\.db\.url: /) },
    });
    expect(r.stdout).not.toContain("secret");
  });
});
