/**
 * Helpers for tests that need the real services started by `scripts/with-services.mjs`
 * (throwaway PostgreSQL, MariaDB and Redis servers and an s3rver fake S3). Each helper creates an
 * isolated, uniquely named database/bucket/key prefix so test files can run in parallel.
 */
import { randomBytes } from "node:crypto";
import type { ObjectIdentifier, S3Client } from "@aws-sdk/client-s3";
import pg from "pg";
import type { TestContext } from "vitest";

// The S3 SDK, mysql2 and redis are imported where they are used: most test files need only PostgreSQL, and
// loading the three clients costs every importing file most of a second.

const SERVICE_ENV = {
  pg: "LETHE_TEST_PG_URL",
  s3: "LETHE_TEST_S3_ENDPOINT",
  mysql: "LETHE_TEST_MYSQL_URL",
  redis: "LETHE_TEST_REDIS_URL",
} as const;

function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set; run the tests via \`node scripts/with-services.mjs vitest run\``);
  return value;
}

/**
 * Call first in a test that needs a service. A missing service fails the test with the reason, locally as
 * in CI: a test that needs PostgreSQL and quietly skips would let a broken harness pass as green.
 */
export function requireService(_ctx: TestContext, service: keyof typeof SERVICE_ENV): void {
  requireEnv(SERVICE_ENV[service]);
}

/** Unique lowercase name that is valid both as a PG identifier and as an S3 bucket name. */
function uniqueName(prefix: string, sep: string): string {
  return [prefix, process.pid, randomBytes(4).toString("hex")].join(sep);
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: requireEnv("LETHE_TEST_PG_URL") });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * Creates a fresh, uniquely named database on the LETHE_TEST_PG_URL server; with `template` (the `name` of a test
 * database nothing is connected to), a copy of that one: a file that needs the same seeded database in several
 * tests builds it once.
 * @example const tpl = await createTestPgDatabase(); …seed it, close every connection…;
 *   const db = await createTestPgDatabase({ template: tpl.name });
 * @returns its connection URL, its name and `drop()`, which force-drops it even if a test
 *   leaked open connections (DROP DATABASE ... WITH (FORCE)).
 */
export async function createTestPgDatabase(
  opts: { template?: string } = {},
): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const url = new URL(requireEnv("LETHE_TEST_PG_URL"));
  const name = uniqueName("lethe_test", "_");
  await adminQuery(`CREATE DATABASE "${name}"${opts.template ? ` TEMPLATE "${opts.template}"` : ""}`);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: () => adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  };
}

async function mysqlAdminQuery(sql: string): Promise<void> {
  const { default: mysql } = await import("mysql2/promise");
  const conn = await mysql.createConnection(requireEnv("LETHE_TEST_MYSQL_URL"));
  try {
    await conn.query(sql);
  } finally {
    await conn.end();
  }
}

/**
 * Creates a fresh, uniquely named database on the LETHE_TEST_MYSQL_URL (MariaDB) server.
 * @example const db = await createTestMysqlDatabase(); try { ... db.url ... } finally { await db.drop(); }
 * @returns its connection URL (`mysql://root@127.0.0.1:PORT/NAME`) and `drop()`.
 */
export async function createTestMysqlDatabase(): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const url = new URL(requireEnv("LETHE_TEST_MYSQL_URL"));
  const name = uniqueName("lethe_test", "_");
  await mysqlAdminQuery(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
  url.pathname = `/${name}`;
  return { url: url.toString(), name, drop: () => mysqlAdminQuery(`DROP DATABASE IF EXISTS \`${name}\``) };
}

async function newRedisClient(url: string) {
  const { createClient } = await import("redis");
  return createClient({ url });
}
type TestRedisClient = Awaited<ReturnType<typeof newRedisClient>>;

/**
 * A unique key prefix on the LETHE_TEST_REDIS_URL server, so test files sharing the server stay apart.
 * @example const r = await createTestRedisPrefix(); await r.client.set(`${r.prefix}a`, "1"); await r.drop();
 * @returns the server URL, the prefix (ends with ":"), a connected client and `drop()`, which deletes
 *   every key under the prefix (SCAN, never KEYS) and closes the client.
 */
export async function createTestRedisPrefix(): Promise<{
  url: string;
  prefix: string;
  client: TestRedisClient;
  drop(): Promise<void>;
}> {
  const url = requireEnv("LETHE_TEST_REDIS_URL");
  const client = await newRedisClient(url);
  await client.connect();
  const prefix = `${uniqueName("lethe-test", "-")}:`;
  return {
    url,
    prefix,
    client,
    async drop() {
      try {
        for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
          if (keys.length > 0) await client.unlink(keys);
        }
      } finally {
        client.destroy();
      }
    },
  };
}

/** S3Client options (endpoint/region/path-style) for the LETHE_TEST_S3_ENDPOINT server. */
export function s3TestConfig(): { endpoint: string; region: string; forcePathStyle: true } {
  return {
    endpoint: requireEnv("LETHE_TEST_S3_ENDPOINT"),
    region: process.env.AWS_REGION ?? "us-east-1",
    forcePathStyle: true,
  };
}

function isUnsupported(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return (
    ["MethodNotAllowed", "NotImplemented"].includes(e.name ?? "") ||
    [405, 501].includes(e.$metadata?.httpStatusCode ?? 0)
  );
}

/** Up to 1000 keys (with versions where the server supports versioning) still in the bucket. */
async function listBatch(client: S3Client, Bucket: string): Promise<ObjectIdentifier[]> {
  const { ListObjectVersionsCommand, ListObjectsV2Command } = await import("@aws-sdk/client-s3");
  try {
    const r = await client.send(new ListObjectVersionsCommand({ Bucket }));
    return [...(r.Versions ?? []), ...(r.DeleteMarkers ?? [])].map((v) => ({ Key: v.Key!, VersionId: v.VersionId }));
  } catch (err) {
    // s3rver has no versioning and answers ListObjectVersions with 405.
    if (!isUnsupported(err)) throw err;
    const r = await client.send(new ListObjectsV2Command({ Bucket }));
    return (r.Contents ?? []).map((o) => ({ Key: o.Key! }));
  }
}

async function emptyBucket(client: S3Client, Bucket: string): Promise<void> {
  const { DeleteObjectsCommand } = await import("@aws-sdk/client-s3");
  // Re-list from the start after each batch; a cap stops a server that "deletes" nothing from looping forever.
  for (let round = 0; round < 1000; round++) {
    const batch = await listBatch(client, Bucket);
    if (batch.length === 0) return;
    const r = await client.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: batch, Quiet: true } }));
    if (r.Errors?.length) throw new Error(`emptying ${Bucket}: ${JSON.stringify(r.Errors.slice(0, 3))}`);
  }
  throw new Error(`emptying ${Bucket}: objects keep reappearing`);
}

/**
 * Creates a uniquely named bucket on the LETHE_TEST_S3_ENDPOINT server.
 * @returns the bucket, a client configured for it, and `drop()`, which deletes every
 *   object (and version, where supported) and then the bucket, and destroys the client.
 */
export async function createTestBucket(): Promise<{ bucket: string; client: S3Client; drop(): Promise<void> }> {
  const { CreateBucketCommand, DeleteBucketCommand, S3Client } = await import("@aws-sdk/client-s3");
  const client = new S3Client({
    ...s3TestConfig(),
    credentials: {
      accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? "S3RVER",
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? "S3RVER",
    },
    // s3rver stores the SDK's default aws-chunked (streaming checksum) bodies verbatim.
    requestChecksumCalculation: "WHEN_REQUIRED",
  });
  const bucket = uniqueName("lethe-test", "-");
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    bucket,
    client,
    async drop() {
      try {
        await emptyBucket(client, bucket);
        await client.send(new DeleteBucketCommand({ Bucket: bucket }));
      } finally {
        client.destroy();
      }
    },
  };
}
