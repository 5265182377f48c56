import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { useTransientProjects } from "./helpers.js";

const { start } = useTransientProjects();

describe("transient: rough edges (issue 11)", () => {
  it('accepts { ttl: "500ms" } and sets the lease expiry half a second out', async () => {
    const { lethe } = await start();
    const t0 = Date.now();
    const out = await lethe.transient(
      "req-ms",
      async (ws) => {
        const lease = await lethe.state.db.selectFrom("leases").selectAll().where("id", "=", ws.id).executeTakeFirst();
        const expires = Date.parse(lease?.expires_at as string);
        expect(expires).toBeGreaterThanOrEqual(t0 + 500);
        expect(expires).toBeLessThanOrEqual(Date.now() + 500);
        return "done";
      },
      { ttl: "500ms" },
    );
    expect(out).toBe("done");
  });

  it("ws.path(name) is asynchronous, and docs/transient.md says to await it", async () => {
    const { lethe } = await start();
    await lethe.transient("req-path", async (ws) => {
      const p = ws.path("scan.dcm");
      expect(p).toBeInstanceOf(Promise);
      expect(await p).toBe(join(ws.dir, "plain", "scan.dcm"));
    });
    const doc = readFileSync(join(import.meta.dirname, "../../docs/transient.md"), "utf8");
    expect(doc).toContain("**`await ws.path(name)`**");
    expect(doc).not.toMatch(/[^t] ws\.path\(name\)` returns/);
  });
});
