import { readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";
import { ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { afterEach, describe, expect, it } from "vitest";
import { letheIn } from "../helpers/cli.js";
import { closedPort } from "../helpers/closed-port.js";
import { makeProject } from "../helpers/project.js";
import { createTestBucket, requireService } from "../helpers/services.js";
import { until } from "./helpers.js";
import { api, createToken, type ServeProcess, startServe } from "./serve-process.js";

// Spawns the BUILT CLI: run `npm run build` first.
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function listen(server: Server, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
}

/** Accepts connections and never answers: an S3 endpoint that hangs. Counts who connected. */
async function blackhole(port: number): Promise<{ connections: () => number }> {
  let n = 0;
  const held: Socket[] = [];
  const server = createServer((sock) => {
    n++;
    held.push(sock);
    sock.on("error", () => undefined);
  });
  cleanups.push(() => {
    for (const s of held) s.destroy();
  });
  await listen(server, port);
  return { connections: () => n };
}

/** Forwards `port` to the real S3 endpoint: the store "comes back". */
async function forward(port: number, endpoint: string): Promise<void> {
  const target = new URL(endpoint);
  const open: Socket[] = [];
  const server = createServer((sock) => {
    const up = tcpConnect(Number(target.port), target.hostname);
    open.push(sock, up);
    sock.on("error", () => up.destroy());
    up.on("error", () => sock.destroy());
    sock.pipe(up).pipe(sock);
  });
  await listen(server, port);
  // Runs before the close that listen() registered: close() waits for every connection to end, and the S3
  // client's keep-alive connections would otherwise hold it for seconds.
  cleanups.push(() => {
    for (const s of open) s.destroy();
  });
}

const S3_ENV = { AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER", AWS_REGION: "us-east-1" };

/**
 * The test project (SQLite logs, training with files) plus an S3 dataset `uploads` on store `blobs`; a down store
 * is tried again every `storeRetry` (500ms here, 15s by default) so that a store coming back is seen at once.
 */
function project(bucket: string, port: number): string {
  const { dir } = makeProject({
    logs: 20,
    extraYaml: `  uploads:
    store: blobs
    include: ["users/**"]
    subjectFromPath: "users/{subject}/**"
    retention: 1d
`,
  });
  const file = `${dir}/lethe.yaml`;
  const store = `  blobs: { kind: s3, bucket: ${bucket}, endpoint: "http://127.0.0.1:${port}", forcePathStyle: true }\n`;
  const yaml = readFileSync(file, "utf8").replace("stores:\n", `stores:\n${store}`);
  writeFileSync(file, yaml.replace("datasets:\n", "server: { storeRetry: 500ms }\ndatasets:\n"));
  return dir;
}

describe("one unreachable store blocks nothing else", () => {
  it("commands that need no store never contact it; plan --dataset of another store works", async (ctx) => {
    requireService(ctx, "s3");
    const port = await closedPort();
    const hole = await blackhole(port);
    const dir = project("unused", port);
    const run = (args: string[]) => letheIn([...args, "--json"], dir, S3_ENV);
    expect((await run(["hold", "add", "--subject", "user-3", "--reason", "litigation"])).code).toBe(0);
    expect((await run(["hold", "list"])).code).toBe(0);
    expect((await run(["audit", "verify"])).code).toBe(0);
    const created = await run(["requests", "create", "user-1"]);
    expect(created.code).toBe(0);
    expect((await run(["requests", "list"])).code).toBe(0);
    const plan = await run(["plan", "--dataset", "logs"]);
    expect(plan.code).toBe(0);
    expect((plan.json as { datasets: { name: string; expired: number }[] }).datasets[0]?.expired).toBe(10);
    expect(hole.connections()).toBe(0);
  }, 120_000);

  it("apply over every dataset with S3 and PostgreSQL down: exit 1 naming the stores, the other datasets done", async (ctx) => {
    requireService(ctx, "s3");
    const port = await closedPort();
    const pgPort = await closedPort();
    const dir = project("unused", port);
    const file = `${dir}/lethe.yaml`;
    writeFileSync(
      file,
      readFileSync(file, "utf8")
        .replace("stores:\n", `stores:\n  warehouse: { kind: sql, url: "postgres://lethe@127.0.0.1:${pgPort}/app" }\n`)
        .concat(
          "  events:\n    store: warehouse\n    table: events\n    key: id\n    createdAt: created_at\n    retention: 30d\n",
        ),
    );
    const plan = await letheIn(["plan", "--json"], dir, S3_ENV);
    expect(plan.code).toBe(1);
    expect((plan.json as { unavailable: { dataset: string; store: string }[] }).unavailable).toEqual([
      expect.objectContaining({ dataset: "uploads", store: "blobs" }),
      expect.objectContaining({ dataset: "events", store: "warehouse" }),
    ]);
    const r = await letheIn(["apply", "--force", "--json"], dir, S3_ENV);
    expect(r.code).toBe(1);
    const out = r.json as { datasets: { name: string; deleted: number }[]; unavailable: { store: string }[] };
    expect(out.datasets.find((d) => d.name === "logs")?.deleted).toBe(10);
    expect(out.unavailable.map((u) => u.store)).toEqual(["blobs", "warehouse"]);
    const text = await letheIn(["apply", "--force"], dir, S3_ENV);
    expect(text.stdout + text.stderr).toContain("uploads: store blobs is unreachable");
  }, 120_000);

  it("serve starts with the store down, reports it, keeps erasure partial and completes it once the store is back", async (ctx) => {
    requireService(ctx, "s3");
    const bucket = await createTestBucket();
    cleanups.push(() => bucket.drop());
    await bucket.client.send(new PutObjectCommand({ Bucket: bucket.bucket, Key: "users/user-1/a.bin", Body: "x" }));
    const port = await closedPort();
    const dir = project(bucket.bucket, port);
    const token = await createToken(dir, "admin");
    const s: ServeProcess = await startServe(dir, S3_ENV);
    cleanups.push(async () => {
      s.signal("SIGKILL");
      await s.exited;
    });
    const ready = await fetch(`${s.base}/readyz`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { stores: Record<string, { up: boolean; reason?: string }> };
    expect(body.stores.appdb).toEqual({ up: true });
    expect(body.stores.blobs?.up).toBe(false);
    expect(body.stores.blobs?.reason).toMatch(/cannot reach bucket/);
    const metrics = (await api(s.base, token, "/metrics")).text;
    expect(metrics).toContain('lethe_store_up{store="blobs"} 0');
    expect(metrics).toContain('lethe_store_up{store="appdb"} 1');

    const req = await api(s.base, token, "/v1/erasure-requests", { method: "POST", body: { subject: "user-1" } });
    expect(req.status).toBe(202);
    const id = req.json.id as string;
    const partial = await until(async () => {
      const r = (await api(s.base, token, `/v1/erasure-requests/${id}`)).json;
      return r.status === "partial" ? r : undefined;
    }, 30_000);
    expect(JSON.stringify(partial)).toContain("blobs");

    await forward(port, process.env.LETHE_TEST_S3_ENDPOINT as string);
    // The service retries down stores every server.storeRetry; then the drainer finishes the request.
    await until(
      async () => (await api(s.base, token, `/v1/erasure-requests/${id}`)).json.status === "completed",
      60_000,
      500,
    );
    const after = (await (await fetch(`${s.base}/readyz`)).json()) as typeof body;
    expect(after.stores.blobs).toEqual({ up: true });
    const left = await bucket.client.send(new ListObjectsV2Command({ Bucket: bucket.bucket, Prefix: "users/user-1/" }));
    expect(left.KeyCount ?? 0).toBe(0);
  }, 150_000);

  it("a store that comes back is used within server.storeRetry, not after the default 15 s", async (ctx) => {
    requireService(ctx, "s3");
    const bucket = await createTestBucket();
    cleanups.push(() => bucket.drop());
    const port = await closedPort();
    const dir = project(bucket.bucket, port); // server.storeRetry: 500ms
    const s: ServeProcess = await startServe(dir, S3_ENV);
    // The retry timer is set before "listening" is logged: with the default 15 s it could not fire before t0 + 12 s
    // unless the start-up log took 3 s to arrive.
    const t0 = Date.now();
    cleanups.push(async () => {
      s.signal("SIGKILL");
      await s.exited;
    });
    const blobs = async () =>
      ((await (await fetch(`${s.base}/readyz`)).json()) as { stores: Record<string, { up: boolean }> }).stores.blobs;
    expect((await blobs())?.up).toBe(false);
    await forward(port, process.env.LETHE_TEST_S3_ENDPOINT as string);
    await until(async () => (await blobs())?.up === true, 60_000);
    expect(Date.now() - t0, "the store was tried again only after the default 15 s").toBeLessThan(12_000);
  }, 90_000);
});
