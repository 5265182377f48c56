// Smoke test for the services scripts/with-services.mjs provides. If these fail, every
// PostgreSQL/MariaDB/Redis/S3 integration test would fail (or, worse, skip), so they are checked first-hand.
import { Readable } from "node:stream";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  PutObjectCommand,
  paginateListObjectsV2,
  S3Client,
} from "@aws-sdk/client-s3";
import mysql from "mysql2/promise";
import pg from "pg";
import { describe, expect, it } from "vitest";
import {
  createTestBucket,
  createTestMysqlDatabase,
  createTestPgDatabase,
  createTestRedisPrefix,
  requireService,
  s3TestConfig,
} from "./helpers/services.js";

async function query<T>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

describe("test services from scripts/with-services.mjs", () => {
  it("PostgreSQL: LETHE_TEST_PG_URL answers, and test databases can be created and dropped", async (ctx) => {
    requireService(ctx, "pg");
    const adminUrl = process.env.LETHE_TEST_PG_URL!;
    expect(await query(adminUrl, "SELECT 1 AS one")).toEqual([{ one: 1 }]);

    const db = await createTestPgDatabase();
    const name = new URL(db.url).pathname.slice(1);
    try {
      expect(await query(db.url, "SELECT current_database() AS name")).toEqual([{ name }]);
    } finally {
      await db.drop();
    }
    expect(await query(adminUrl, "SELECT 1 FROM pg_database WHERE datname = $1", [name])).toEqual([]);
  });

  it("MariaDB: LETHE_TEST_MYSQL_URL answers, and test databases can be created and dropped", async (ctx) => {
    requireService(ctx, "mysql");
    const admin = await mysql.createConnection(process.env.LETHE_TEST_MYSQL_URL!);
    try {
      const [version] = await admin.query("SELECT VERSION() AS v");
      expect((version as { v: string }[])[0]!.v).toMatch(/MariaDB/);
      const db = await createTestMysqlDatabase();
      const conn = await mysql.createConnection(db.url);
      try {
        const [rows] = await conn.query("SELECT DATABASE() AS name");
        expect(rows).toEqual([{ name: db.name }]);
      } finally {
        await conn.end();
        await db.drop();
      }
      const [left] = await admin.query("SHOW DATABASES LIKE ?", [db.name]);
      expect(left).toEqual([]);
    } finally {
      await admin.end();
    }
  });

  it("Redis: LETHE_TEST_REDIS_URL answers, and a test prefix is emptied by drop()", async (ctx) => {
    requireService(ctx, "redis");
    const r = await createTestRedisPrefix();
    expect(await r.client.ping()).toBe("PONG");
    await r.client.set(`${r.prefix}a`, "1");
    await r.client.hSet(`${r.prefix}h`, "f", "v");
    const url = r.url;
    await r.drop();
    const { createClient } = await import("redis");
    const check = createClient({ url });
    await check.connect();
    try {
      expect(await check.exists([`${r.prefix}a`, `${r.prefix}h`])).toBe(0);
    } finally {
      check.destroy();
    }
  });

  it("S3: LETHE_TEST_S3_ENDPOINT supports put/list/delete in a throwaway bucket", async (ctx) => {
    requireService(ctx, "s3");
    const { bucket, client, drop } = await createTestBucket();
    expect(bucket).toMatch(/^[a-z0-9-]{3,63}$/);
    try {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: "a/one.txt", Body: "one" }));
      // A stream body guards the harness's checksum setting: with the SDK's default aws-chunked
      // framing s3rver would store the chunk headers as part of the object.
      const stream = Readable.from([Buffer.from("tw"), Buffer.from("o")]);
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: "a/two.txt", Body: stream, ContentLength: 3 }));
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: "b.txt", Body: "b" }));
      const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: "a/two.txt" }));
      expect(await got.Body?.transformToString()).toBe("two");

      // Page size 2 forces a continuation token, which s3rver only produces with --openssl-legacy-provider.
      const keys: string[] = [];
      for await (const page of paginateListObjectsV2({ client, pageSize: 2 }, { Bucket: bucket })) {
        keys.push(...(page.Contents ?? []).map((o) => o.Key!));
      }
      expect(keys).toEqual(["a/one.txt", "a/two.txt", "b.txt"]);

      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: "b.txt" }));
      const after: string[] = [];
      for await (const page of paginateListObjectsV2({ client }, { Bucket: bucket })) {
        after.push(...(page.Contents ?? []).map((o) => o.Key!));
      }
      expect(after).toEqual(["a/one.txt", "a/two.txt"]);
    } finally {
      await drop();
    }
    // drop() destroyed its client, so check with a fresh one (credentials come from the harness env).
    const check = new S3Client(s3TestConfig());
    await expect(check.send(new HeadBucketCommand({ Bucket: bucket }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    });
    check.destroy();
  });
});
