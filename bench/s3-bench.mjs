/**
 * S3 expiry sweep: `lethe apply` (a spawned CLI process: listing, re-check,
 * DeleteObjects in batches of 1,000, one ledger entry per object) over
 * BENCH_S3_OBJECTS expired objects (default 10,000) on the loopback s3rver,
 * vs the AWS CLI's own `aws s3 rm --recursive` of an identical copy in the
 * same run. Without an `aws` binary the reference is a plain SDK
 * ListObjectsV2 + DeleteObjects loop (and the report says so).
 *
 *   npm run build && node scripts/with-services.mjs node bench/s3-bench.mjs
 *   node bench/s3-bench.mjs            # starts its own s3rver
 *   BENCH_AWS_CLI=/usr/bin/aws BENCH_S3_OBJECTS=2000 node bench/s3-bench.mjs
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { fmt, lethe, table, timed, workDir } from "./lib.mjs";

const PREFIX = "sweep/";

function client(endpoint) {
  return new S3Client({
    endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    requestChecksumCalculation: "WHEN_REQUIRED",
    credentials: {
      accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? "S3RVER",
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? "S3RVER",
    },
  });
}

async function fill(c, bucket, n) {
  await c.send(new CreateBucketCommand({ Bucket: bucket }));
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      await c.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: `${PREFIX}u${i % 100}/obj-${String(i).padStart(6, "0")}.bin`,
          Body: `object ${i}`,
        }),
      );
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
}

async function count(c, bucket) {
  let n = 0;
  let token;
  do {
    const r = await c.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    n += r.KeyCount ?? 0;
    token = r.IsTruncated ? r.NextContinuationToken : undefined;
  } while (token);
  return n;
}

/** The reference when there is no AWS CLI: list a page, delete it with one DeleteObjects, repeat. */
async function sdkSweep(c, bucket) {
  const t0 = process.hrtime.bigint();
  for (;;) {
    const r = await c.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: PREFIX }));
    const objects = (r.Contents ?? []).map((o) => ({ Key: o.Key }));
    if (objects.length === 0) break;
    await c.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects, Quiet: true } }));
  }
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** BENCH_AWS_CLI picks a binary (e.g. /usr/bin/aws for Debian's v2); default: `aws` on PATH. */
const AWS = process.env.BENCH_AWS_CLI ?? "aws";

function awsCli() {
  const r = spawnSync(AWS, ["--version"], { encoding: "utf8" });
  return r.status === 0 ? (r.stdout || r.stderr).trim().split(" ")[0] : undefined;
}

async function withEndpoint(fn) {
  if (process.env.LETHE_TEST_S3_ENDPOINT) return fn(process.env.LETHE_TEST_S3_ENDPOINT);
  const { startS3rver } = await import("../scripts/s3rver-child.mjs");
  const s3 = await startS3rver(workDir("lethe-bench-s3-"));
  process.env.AWS_ACCESS_KEY_ID ??= "S3RVER";
  process.env.AWS_SECRET_ACCESS_KEY ??= "S3RVER";
  process.env.AWS_REQUEST_CHECKSUM_CALCULATION ??= "WHEN_REQUIRED";
  try {
    return await fn(`http://127.0.0.1:${s3.port}`);
  } finally {
    await s3.stop();
  }
}

export async function run() {
  const n = Number(process.env.BENCH_S3_OBJECTS ?? 10_000);
  return withEndpoint(async (endpoint) => {
    const c = client(endpoint);
    const tag = `${process.pid}-${Date.now().toString(36)}`;
    const ours = `bench-lethe-${tag}`;
    const ref = `bench-ref-${tag}`;
    const t0 = Date.now();
    await fill(c, ours, n);
    await fill(c, ref, n);
    const fillSeconds = (Date.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 2_100)); // past the 1s retention, whole seconds

    const dir = workDir("lethe-bench-s3-");
    writeFileSync(
      join(dir, "lethe.yaml"),
      `version: 1
state: ./.lethe
safety: { maxFraction: 1 }
stores:
  blobs: { kind: s3, bucket: ${ours}, prefix: "${PREFIX}", endpoint: "${endpoint}", forcePathStyle: true }
datasets:
  uploads: { store: blobs, retention: 1s, subjectFromPath: "{subject}/**" }
`,
    );
    const env = { ...process.env, AWS_REGION: "us-east-1" };
    const mine = lethe(["apply", "--json"], dir);
    const result = JSON.parse(mine.stdout).datasets[0];

    const cli = awsCli();
    let refSeconds;
    let refName;
    if (cli) {
      const r = timed(
        "aws",
        ["s3", "rm", `s3://${ref}/${PREFIX}`, "--recursive", "--quiet", "--endpoint-url", endpoint],
        { env },
      );
      refSeconds = r.seconds;
      refName = `\`aws s3 rm --recursive\` (${cli})`;
    } else {
      refSeconds = await sdkSweep(c, ref);
      refName = "SDK ListObjectsV2 + DeleteObjects loop (no `aws` CLI on this machine)";
    }
    const leftOurs = await count(c, ours);
    const leftRef = await count(c, ref);
    for (const b of [ours, ref]) await c.send(new DeleteBucketCommand({ Bucket: b })).catch(() => undefined);
    c.destroy();
    return [
      "## S3 expiry sweep (issue 4)",
      "",
      `${n.toLocaleString("en")} expired objects on the loopback s3rver (filled in ${fmt(fillSeconds, 1)}s, not timed). ` +
        "`lethe apply` is a spawned CLI process that lists, re-checks each batch, deletes with DeleteObjects (≤ 1,000 keys a request) " +
        `and writes one ledger entry per object; the reference is ${refName} on an identical copy, in the same run.`,
      "",
      table(
        ["sweep", "objects deleted", "seconds", "objects/s", "left in bucket"],
        [
          ["lethe apply", result.deleted, fmt(mine.seconds), fmt(result.deleted / mine.seconds, 0), leftOurs],
          [refName, n - leftRef, fmt(refSeconds), fmt((n - leftRef) / refSeconds, 0), leftRef],
        ],
      ),
      "",
      `Ratio lethe / reference: **${fmt(mine.seconds / refSeconds)}×** (below 1 means lethe is faster).` +
        (mine.rssMiB ? ` Peak RSS of lethe apply: ${fmt(mine.rssMiB, 0)} MiB.` : ""),
      "",
    ].join("\n");
  });
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await run());
