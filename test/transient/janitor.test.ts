import { randomBytes } from "node:crypto";
import { chownSync, existsSync, mkdirSync, readdirSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Lethe } from "../../src/lethe.js";
import { letheIn } from "../helpers/cli.js";
import { makeTransientProject, type TransientProject } from "./helpers.js";
import { webhookServer } from "./process.js";

const HOUR = 3_600_000;
let opened: Lethe[] = [];
afterEach(async () => {
  for (const l of opened) await l.close().catch(() => undefined);
  opened = [];
});
async function openP(p: TransientProject): Promise<Lethe> {
  const l = await p.open();
  opened.push(l);
  return l;
}

function aged(p: TransientProject, rel: string, ageMs: number): string {
  const abs = join(p.data, rel);
  mkdirSync(join(abs, ".."), { recursive: true });
  writeFileSync(abs, "x");
  const t = new Date(Date.now() - ageMs);
  utimesSync(abs, t, t);
  return abs;
}

describe("janitor: datasets", () => {
  let hook: Awaited<ReturnType<typeof webhookServer>>;
  beforeAll(async () => {
    hook = await webhookServer();
  });
  afterAll(async () => {
    await hook.close();
  });

  it("finds items past expiry + grace, reports retention lag, alerts without raw keys, and --apply deletes them on the ledger", async () => {
    const p = makeTransientProject({
      extra: { alerts: { webhook: hook.url }, safety: { maxFraction: 1 } },
      datasets: {
        uploads: { store: "files", include: ["uploads/**"], retention: "1h" },
        archive: { store: "files", include: ["archive/**"], retention: "1h" },
      },
    });
    const old = aged(p, "uploads/users/alice/scan.dcm", 3 * HOUR);
    const withinGrace = aged(p, "uploads/users/bob/scan.dcm", 1.5 * HOUR);
    const fresh = aged(p, "uploads/users/carol/scan.dcm", 0.2 * HOUR);
    const held = aged(p, "archive/old.bin", 5 * HOUR);
    const lethe = await openP(p);
    await lethe.holds.add({ dataset: "archive", reason: "litigation 7" });

    const r = await lethe.janitor();
    expect(r.findings).toEqual([
      expect.objectContaining({
        kind: "expired_item",
        dataset: "uploads",
        keyHash: lethe.ledger.keyHash("uploads", "uploads/users/alice/scan.dcm"),
      }),
    ]);
    expect(r.findings[0]?.age).toBeGreaterThanOrEqual(2 * 3600 - 5);
    expect(r.counts).toEqual({ expired_item: 1 });
    const lag = Object.fromEntries(r.lag.map((l) => [l.dataset, l.seconds]));
    expect(lag.uploads).toBeGreaterThanOrEqual(7200 - 5);
    expect(lag.uploads).toBeLessThanOrEqual(7200 + 5);
    // A held item is never overdue (issue 11 item 2): the held dataset shows no retention lag.
    expect(lag.archive).toBe(0);
    expect(r.datasets.find((d) => d.name === "archive")).toMatchObject({ overdue: 0, heldBack: 1 });
    expect(existsSync(old)).toBe(true);
    expect(r.alert).toMatchObject({ logged: true, webhook: { sent: true } });
    const body = JSON.stringify(hook.bodies.at(-1));
    expect(body).not.toContain("alice");
    expect(body).toContain(r.runId);
    const found = (await lethe.audit.log({ dataset: "uploads", key: "uploads/users/alice/scan.dcm" })).map(
      (e) => e.action,
    );
    expect(found).toEqual(["janitor_found"]);

    const zero = await lethe.janitor({ graceSeconds: 0 });
    expect(zero.findings.map((f) => f.keyHash).sort()).toEqual(
      [
        lethe.ledger.keyHash("uploads", "uploads/users/alice/scan.dcm"),
        lethe.ledger.keyHash("uploads", "uploads/users/bob/scan.dcm"),
      ].sort(),
    );

    const fixed = await lethe.janitor({ apply: true });
    expect(fixed.findings).toEqual([expect.objectContaining({ kind: "expired_item", fixed: true })]);
    expect(fixed.datasets.find((d) => d.name === "uploads")).toMatchObject({ overdue: 1, deleted: 1, failed: 0 });
    expect(existsSync(old)).toBe(false);
    expect(existsSync(withinGrace)).toBe(true);
    expect(existsSync(fresh)).toBe(true);
    expect(existsSync(held)).toBe(true);
    const after = (await lethe.audit.log({ dataset: "uploads", key: "uploads/users/alice/scan.dcm" })).map((e) => [
      e.action,
      e.reason,
    ]);
    expect(after).toEqual([
      ["janitor_found", "expired_item"],
      ["janitor_found", "expired_item"],
      ["janitor_found", "expired_item"],
      ["deleted", "janitor"],
    ]);
    expect((await lethe.janitor()).findings).toEqual([]);
    expect((await lethe.audit.verify()).ok).toBe(true);
  });

  it("--apply respects safety.maxFraction unless forced", async () => {
    const p = makeTransientProject();
    for (let i = 0; i < 4; i++) aged(p, `uploads/f${i}.bin`, 3 * HOUR);
    const lethe = await openP(p);
    const refused = await lethe.janitor({ apply: true });
    expect(refused.datasets[0]).toMatchObject({ overdue: 4, refused: expect.stringContaining("safety.maxFraction") });
    expect(refused.findings.every((f) => f.fixed === false)).toBe(true);
    expect(existsSync(join(p.data, "uploads/f0.bin"))).toBe(true);
    const forced = await lethe.janitor({ apply: true, force: true });
    expect(forced.datasets[0]).toMatchObject({ deleted: 4 });
  });

  it("CLI: exit 1 on findings, 0 when clean; --grace is a duration", async () => {
    const p = makeTransientProject();
    aged(p, "uploads/a.bin", 1.5 * HOUR);
    aged(p, "uploads/b.bin", 0);
    aged(p, "uploads/c.bin", 0);
    const clean = await letheIn(["janitor", "--json", "--config", p.configPath], p.dir);
    expect(clean.code).toBe(0);
    expect(clean.json).toMatchObject({ findings: [], lag: [{ dataset: "uploads", seconds: expect.any(Number) }] });
    const strict = await letheIn(["janitor", "--grace", "10m", "--json", "--config", p.configPath], p.dir);
    expect(strict.code).toBe(1);
    expect(strict.json).toMatchObject({ graceSeconds: 600, findings: [{ kind: "expired_item", dataset: "uploads" }] });
    expect(strict.stderr).toContain("janitor: 1 finding(s)");
    const bad = await letheIn(["janitor", "--grace", "10", "--json", "--config", p.configPath], p.dir);
    expect(bad.code).toBe(2);
    const text = await letheIn(["janitor", "--grace", "10m", "--config", p.configPath], p.dir);
    expect(text.stdout).toContain("expired_item");
    expect(text.stdout).toContain("Retention lag");
  });
});

describe("janitor: workspaces and events", () => {
  it("reports orphaned directories, expired leases and stale foreign namespaces; --apply removes only its own", async () => {
    const p = makeTransientProject();
    const lethe = await openP(p);
    let ns = "";
    await lethe.transient("warm-up", async (ws) => {
      ns = join(ws.dir, "..");
    });
    const orphan = join(ns, `ws_${randomBytes(16).toString("hex")}`);
    mkdirSync(join(orphan, "plain"), { recursive: true });
    writeFileSync(join(orphan, "e-abc"), randomBytes(100));
    writeFileSync(join(orphan, "plain", "tool.txt"), "plaintext left by a tool");
    const expiredId = `ws_${randomBytes(16).toString("hex")}`;
    const expiredDir = join(ns, expiredId);
    mkdirSync(expiredDir);
    writeFileSync(join(expiredDir, "e-1"), randomBytes(10));
    await insertExpiredLease(lethe, expiredId, expiredDir);
    const foreign = join(p.root, "0123456789abcdef", `ws_${randomBytes(16).toString("hex")}`);
    mkdirSync(foreign, { recursive: true });
    const old = new Date(Date.now() - 3 * 86_400_000);
    utimesSync(foreign, old, old);
    mkdirSync(join(ns, "not-a-workspace"));
    // Names that only look like lethe's: never reported, never touched (only ws_<32 lowercase hex> is lethe's).
    const lookalikes = ["ws_zz", `ws_${randomBytes(16).toString("hex")}.moved`, `ws_${"A".repeat(32)}`];
    for (const n of lookalikes) mkdirSync(join(ns, n));

    const r = await lethe.janitor();
    const kinds = r.findings.map((f) => [f.kind, f.path]).sort();
    expect(kinds).toEqual(
      [
        ["lease_expired", expiredDir],
        ["workspace_foreign", foreign],
        ["workspace_orphaned", orphan],
      ].sort(),
    );
    const fix = await lethe.janitor({ apply: true });
    expect(Object.fromEntries(fix.findings.map((f) => [f.kind, f.fixed]))).toEqual({
      lease_expired: true,
      workspace_orphaned: true,
      workspace_foreign: false,
    });
    expect(existsSync(orphan)).toBe(false);
    expect(existsSync(expiredDir)).toBe(false);
    expect(existsSync(foreign)).toBe(true);
    expect(existsSync(join(ns, "not-a-workspace"))).toBe(true);
    for (const n of lookalikes) expect(existsSync(join(ns, n))).toBe(true);
    expect(await lethe.state.db.selectFrom("leases").selectAll().execute()).toEqual([]);
    const closed = (await lethe.audit.log({})).filter((e) => e.action === "workspace_closed" && e.reason === "janitor");
    expect(closed.map((e) => e.data?.finding).sort()).toEqual(["lease_expired", "workspace_orphaned"]);
  });

  it("an unusable transient root (a link) fails the workspace part only: every dataset is checked", async () => {
    const p = makeTransientProject();
    aged(p, "uploads/old.bin", 3 * HOUR);
    mkdirSync(join(p.dir, "elsewhere"));
    symlinkSync(join(p.dir, "elsewhere"), p.root);
    const lethe = await openP(p);
    const r = await lethe.janitor();
    expect(r.findings).toEqual([
      { kind: "workspaces_unavailable", reason: expect.stringContaining("symlinks are refused") },
      expect.objectContaining({ kind: "expired_item", dataset: "uploads" }),
    ]);
    const found = (await lethe.audit.log({})).filter((e) => e.action === "janitor_found");
    expect(found.find((e) => e.reason === "workspaces_unavailable")?.data).toEqual({ error: "STATE_ERROR" });
  });

  it("an unusable transient root still reports an expired lease (and --apply leaves it, reported, for a later pass)", async () => {
    const p = makeTransientProject();
    mkdirSync(join(p.dir, "elsewhere"));
    symlinkSync(join(p.dir, "elsewhere"), p.root);
    const lethe = await openP(p);
    const id = `ws_${randomBytes(16).toString("hex")}`;
    await insertExpiredLease(lethe, id, join(p.root, "0123456789abcdef", id));
    const r = await lethe.janitor();
    expect(r.findings).toEqual([
      { kind: "workspaces_unavailable", reason: expect.stringContaining("symlinks are refused") },
      expect.objectContaining({ kind: "lease_expired", id }),
    ]);
    const fix = await lethe.janitor({ apply: true });
    expect(fix.findings).toEqual([
      expect.objectContaining({ kind: "workspaces_unavailable", fixed: false }),
      expect.objectContaining({
        kind: "lease_expired",
        id,
        fixed: false,
        reason: expect.stringContaining("STATE_ERROR"),
      }),
    ]);
    expect(await lethe.state.db.selectFrom("leases").select("id").execute()).toEqual([{ id }]);
    expect(readdirSync(join(p.dir, "elsewhere"))).toEqual([]);
  });

  // chown to another user needs root (CI runs as root): elsewhere the test is reported skipped, never silently passed.
  it.skipIf(process.getuid?.() !== 0)(
    "a transient root owned by another user fails the workspace part only (needs root: skipped when not root)",
    async () => {
      const q = makeTransientProject();
      aged(q, "uploads/old.bin", 3 * HOUR);
      mkdirSync(q.root, { mode: 0o700 });
      chownSync(q.root, 4242, 4242);
      const cli = await letheIn(["janitor", "--json", "--config", q.configPath], q.dir);
      expect(cli.code).toBe(1);
      expect(cli.json).toMatchObject({
        findings: [
          { kind: "workspaces_unavailable", reason: expect.stringContaining("another user") },
          { kind: "expired_item", dataset: "uploads" },
        ],
        datasets: [{ name: "uploads", overdue: 1 }],
      });
    },
  );

  it("reports events still undelivered after the grace period, and --apply processes them", async () => {
    const p = makeTransientProject({
      datasets: { uploads: { store: "files", include: ["uploads/**"], retention: "30d", events: true } },
    });
    writeFileSync(join(p.data, "uploads", "late.bin"), "x");
    const lethe = await openP(p);
    const e = await lethe.events.enqueue({
      requestId: "req-late",
      artifacts: [{ dataset: "uploads", key: "uploads/late.bin" }],
    });
    expect((await lethe.janitor()).findings).toEqual([]);
    const later = new Date(Date.now() + 2 * HOUR);
    const r = await lethe.janitor({ now: later });
    expect(r.findings).toEqual([expect.objectContaining({ kind: "event_pending", id: e.id })]);
    const fix = await lethe.janitor({ now: later, apply: true });
    expect(fix.findings).toEqual([expect.objectContaining({ kind: "event_pending", fixed: true })]);
    expect(existsSync(join(p.data, "uploads", "late.bin"))).toBe(false);
  });
});

/** A lease another host opened three hours ago that expired two hours ago: the janitor's to report. */
async function insertExpiredLease(lethe: Lethe, id: string, dir: string) {
  await lethe.state.db
    .insertInto("leases")
    .values({
      id,
      request_hash: "h",
      dir,
      host: "other-host",
      pid: 1,
      opened_at: new Date(Date.now() - 3 * HOUR).toISOString(),
      expires_at: new Date(Date.now() - 2 * HOUR).toISOString(),
      plaintext: 0,
    })
    .execute();
}
