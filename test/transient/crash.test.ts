import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openLethe } from "../../src/lethe.js";
import { letheIn } from "../helpers/cli.js";
import { filesContaining, filesUnder, makeTransientProject, workspaceDirs } from "./helpers.js";
import { child, DIST, webhookServer } from "./process.js";

const CHILD = `
import { openLethe } from ${JSON.stringify(DIST)};
const [config, canary] = process.argv.slice(1);
const lethe = await openLethe(config, { logger: { warn() {}, info() {} } });
await lethe.transient("req-crash", async (ws) => {
  const secret = Buffer.from(JSON.stringify({ ssn: canary, notes: canary.repeat(200) }));
  await ws.write("history.json", secret);
  const w = ws.createWriteStream("scan.bin");
  for (let i = 0; i < 40; i++) w.write(Buffer.from(canary.repeat(500)));
  await new Promise((r) => w.write(Buffer.alloc(0), r)); // every chunk before it is written, not a sleep
  const back = await ws.read("history.json");
  if (!back.equals(secret)) throw new Error("round trip failed");
  process.stdout.write("READY " + ws.dir + "\\n");
  await new Promise(() => {});
}, { ttl: "10m" });
`;

interface JanitorJson {
  findings: { kind: string; path?: string; id?: string; fixed?: boolean; age?: number }[];
  lag: { dataset: string; seconds: number }[];
  alert: { webhook: unknown };
}

describe("a process SIGKILLed in the middle of lethe.transient", () => {
  let hook: Awaited<ReturnType<typeof webhookServer>>;
  beforeAll(async () => {
    hook = await webhookServer();
  });
  afterAll(async () => {
    await hook.close();
  });

  it("leaves ciphertext only, and lethe janitor reports it (exit 1, webhook) and --apply removes it", async () => {
    const p = makeTransientProject({ extra: { alerts: { webhook: hook.url } } });
    const canary = `CANARY-${randomBytes(12).toString("hex")}`;
    const { proc, line, exited } = await child(CHILD, [p.configPath, canary], "READY ");
    const dir = line.slice("READY ".length).trim();
    proc.kill("SIGKILL");
    expect(await exited).toBe(-1);

    // What the crash left: the workspace directory with its files, all ciphertext.
    expect(existsSync(dir)).toBe(true);
    const left = filesUnder(p.root);
    expect(left.length).toBeGreaterThanOrEqual(2);
    const needles = [
      Buffer.from(canary),
      Buffer.from(canary, "utf16le"),
      Buffer.from(Buffer.from(canary).toString("base64").slice(0, 20)),
    ];
    expect(filesContaining(left, needles)).toEqual([]);
    expect(filesContaining(filesUnder(join(p.dir, ".lethe")), needles)).toEqual([]);
    // The scan itself works: a plaintext canary would have been found.
    expect(filesContaining([p.configPath], [Buffer.from("masterKey")])).toEqual([p.configPath]);

    const report = await letheIn(["janitor", "--json", "--config", p.configPath], p.dir);
    expect(report.code).toBe(1);
    const r1 = report.json as JanitorJson;
    expect(r1.findings).toEqual([expect.objectContaining({ kind: "lease_abandoned", path: dir })]);
    expect(r1.alert.webhook).toMatchObject({ sent: true, status: 204 });
    expect(existsSync(dir)).toBe(true); // a report alone removes nothing
    expect(hook.bodies).toHaveLength(1);
    expect(hook.bodies[0]).toMatchObject({ source: "lethe", kind: "janitor", counts: { lease_abandoned: 1 } });
    expect(JSON.stringify(hook.bodies[0])).not.toContain("req-crash");

    const fix = await letheIn(["janitor", "--apply", "--json", "--config", p.configPath], p.dir);
    expect(fix.code).toBe(1);
    expect((fix.json as JanitorJson).findings).toEqual([
      expect.objectContaining({ kind: "lease_abandoned", path: dir, fixed: true }),
    ]);
    expect(existsSync(dir)).toBe(false);
    expect(workspaceDirs(p.root)).toEqual([]);
    expect(hook.bodies).toHaveLength(2);

    const clean = await letheIn(["janitor", "--json", "--config", p.configPath], p.dir);
    expect(clean.code).toBe(0);
    expect((clean.json as JanitorJson).findings).toEqual([]);
    expect(hook.bodies).toHaveLength(2);

    const lethe = await openLethe(p.configPath, { logger: { warn: () => undefined, info: () => undefined } });
    try {
      const log = await lethe.audit.log({});
      expect(log.map((e) => e.action)).toEqual(
        expect.arrayContaining(["workspace_opened", "janitor_found", "workspace_closed"]),
      );
      expect(log.find((e) => e.action === "workspace_closed")?.data).toMatchObject({
        outcome: "janitor",
        finding: "lease_abandoned",
        files: 2,
      });
      expect((await lethe.audit.verify()).ok).toBe(true);
    } finally {
      await lethe.close();
    }
  });
});
