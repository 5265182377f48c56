import { afterEach, describe, expect, it } from "vitest";
import { keyProblem } from "../../src/core/keys/canonical-key.js";
import { type Lethe, openLethe } from "../../src/lethe.js";
import { tempDir, writeConfig } from "../helpers/cli.js";
import { createTestBucket, requireService } from "../helpers/services.js";
import { listAll, putObjects } from "./s3-helpers.js";

// In S3 `users//alice/b.bin` is an object of its own, not a spelling of `users/alice/b.bin` (docs/s3.md).
describe("s3: keys that are not canonical", () => {
  let t: Awaited<ReturnType<typeof createTestBucket>> | undefined;
  let lethe: Lethe | undefined;
  afterEach(async () => {
    await lethe?.close();
    await t?.drop();
  });

  it("an event naming one is refused (VALIDATION) before anything is stored, and nothing is deleted", async (ctx) => {
    requireService(ctx, "s3");
    t = await createTestBucket();
    const keys = ["lethe/users/alice/b.bin", "lethe/users/bob/c.bin"];
    await putObjects(t.client, t.bucket, keys);
    const dir = tempDir();
    const config = writeConfig(
      dir,
      `version: 1
state: ./.lethe
safety: { maxFraction: 1 }
stores:
  blobs: { kind: s3, bucket: ${t.bucket}, prefix: "lethe/", endpoint: "${process.env.LETHE_TEST_S3_ENDPOINT}", forcePathStyle: true }
datasets:
  uploads: { store: blobs, include: ["users/**"], subjectFromPath: "users/{subject}/**", retention: 1d, events: true }
`,
    );
    lethe = await openLethe(config, { logger: { warn: () => undefined, info: () => undefined } });
    await lethe.holds.add({ subject: "alice", reason: "litigation" });
    for (const key of ["lethe/users//alice/b.bin", "lethe/users/bob/./c.bin"])
      await expect(
        lethe.complete({ requestId: `r-${key}`, artifacts: [{ dataset: "uploads", key }] }),
      ).rejects.toMatchObject({ code: "VALIDATION" });

    // Nothing was touched, and the canonical spelling is still held.
    const r = await lethe.complete({
      requestId: "r-ok",
      artifacts: [{ dataset: "uploads", key: "lethe/users/alice/b.bin" }],
    });
    expect(r.result?.datasets[0]).toMatchObject({ held: 1, deleted: 0, failed: 0 });
    expect((await listAll(t.client, t.bucket)).map((o) => o.key).sort()).toEqual(keys.sort());
    // An object that exists under such a key (s3rver cannot store one; AWS can) is left alone by every run and
    // reported as a failure: the executor checks keyProblem() for every item, whatever found it.
    expect(keyProblem({ storeKind: "s3" }, "lethe/users//alice/b.bin")).toBe("has an empty path segment (//)");
    expect(keyProblem({ storeKind: "s3" }, "lethe/users/bob/./c.bin")).toBe("has a . or .. path segment");
  });
});
