import { DeleteObjectsCommand, type ObjectIdentifier, type S3Client } from "@aws-sdk/client-s3";
import { isUnsupported, redactKey, safeReason } from "./s3-errors.js";

/** S3 accepts at most 1,000 identifiers per DeleteObjects request. */
export const DELETE_BATCH_MAX = 1000;
const CHUNK_CONCURRENCY = 4;

/** One key and the identifiers (the key, or each of its versions) that delete it. */
export interface DeleteTarget {
  key: string;
  ids: ObjectIdentifier[];
}

export interface DeleteOutcome {
  /** Every identifier of the key was reported deleted. */
  deleted: Set<string>;
  /** Some identifier got a per-key error: key → reason. */
  failed: Map<string, string>;
  /** A conditional (ETag) delete found the object changed since it was checked. */
  modified: Set<string>;
  /** The request itself failed or the answer did not mention the key: settle by looking. */
  unsure: Map<string, string>;
  /** The server rejected ETag conditions; they were dropped and the chunk retried. */
  conditionalUnsupported: boolean;
}

type Status =
  | { kind: "ok" }
  | { kind: "error"; reason: string }
  | { kind: "modified" }
  | { kind: "unsure"; reason: string };

const idOf = (key: string | undefined, version: string | undefined) => `${key ?? ""}\u0000${version ?? ""}`;

/**
 * Deletes the targets with DeleteObjects in requests of at most 1,000
 * identifiers, a few requests at a time. Per-key errors are reported as
 * failures with their S3 code, never dropped; a key counts as deleted only
 * when the answer names every one of its identifiers as deleted.
 *
 * @example
 * const out = await deleteObjects(client, "bucket", [{ key: "a.bin", ids: [{ Key: "a.bin" }] }]);
 */
export async function deleteObjects(client: S3Client, bucket: string, targets: DeleteTarget[]): Promise<DeleteOutcome> {
  const flat: { key: string; id: ObjectIdentifier }[] = targets.flatMap((t) => t.ids.map((id) => ({ key: t.key, id })));
  const status = new Map<string, Status>();
  const chunks: ObjectIdentifier[][] = [];
  for (let i = 0; i < flat.length; i += DELETE_BATCH_MAX)
    chunks.push(flat.slice(i, i + DELETE_BATCH_MAX).map((f) => f.id));
  let conditionalUnsupported = false;
  let next = 0;
  const worker = async () => {
    while (next < chunks.length) {
      const chunk = chunks[next++] as ObjectIdentifier[];
      conditionalUnsupported = (await deleteChunk(client, bucket, chunk, status)) || conditionalUnsupported;
    }
  };
  await Promise.all(Array.from({ length: Math.min(CHUNK_CONCURRENCY, chunks.length) }, worker));

  const out: DeleteOutcome = {
    deleted: new Set(),
    failed: new Map(),
    modified: new Set(),
    unsure: new Map(),
    conditionalUnsupported,
  };
  for (const t of targets) {
    const states = t.ids.map(
      (id) =>
        status.get(idOf(id.Key, id.VersionId)) ?? {
          kind: "unsure",
          reason: "not mentioned in the DeleteObjects answer",
        },
    );
    const error = states.find((s) => s.kind === "error");
    const unsure = states.find((s) => s.kind === "unsure");
    if (error?.kind === "error") out.failed.set(t.key, error.reason);
    else if (states.some((s) => s.kind === "modified")) out.modified.add(t.key);
    else if (unsure?.kind === "unsure") out.unsure.set(t.key, unsure.reason);
    else out.deleted.add(t.key);
  }
  return out;
}

/** Sends one request; returns true when ETag conditions had to be dropped. */
async function deleteChunk(
  client: S3Client,
  bucket: string,
  ids: ObjectIdentifier[],
  status: Map<string, Status>,
): Promise<boolean> {
  const conditional = ids.some((i) => i.ETag !== undefined);
  let r: Awaited<ReturnType<typeof send>>;
  try {
    r = await send(client, bucket, ids);
  } catch (err) {
    if (conditional && isUnsupported(err)) {
      await deleteChunk(client, bucket, unconditional(ids), status);
      return true;
    }
    for (const id of ids)
      status.set(idOf(id.Key, id.VersionId), {
        kind: "unsure",
        reason: `DeleteObjects failed: ${safeReason(err, id.Key)}`,
      });
    return false;
  }
  if (conditional && (r.Errors ?? []).some((e) => e.Code === "NotImplemented")) {
    await deleteChunk(client, bucket, unconditional(ids), status);
    return true;
  }
  const sent = new Set(ids.map((i) => idOf(i.Key, i.VersionId)));
  const resolve = (key: string | undefined, version: string | undefined) => {
    const exact = idOf(key, version);
    return sent.has(exact) ? exact : idOf(key, undefined);
  };
  for (const d of r.Deleted ?? []) status.set(resolve(d.Key, d.VersionId), { kind: "ok" });
  for (const e of r.Errors ?? []) {
    const id = resolve(e.Key, e.VersionId);
    if (e.Code === "PreconditionFailed" && conditional) status.set(id, { kind: "modified" });
    else
      status.set(id, {
        kind: "error",
        reason: redactKey(`${e.Code ?? "Error"}: ${e.Message ?? "per-key DeleteObjects error"}`, e.Key),
      });
  }
  return false;
}

function send(client: S3Client, bucket: string, ids: ObjectIdentifier[]) {
  return client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: ids, Quiet: false } }));
}

function unconditional(ids: ObjectIdentifier[]): ObjectIdentifier[] {
  return ids.map(({ ETag: _etag, ...rest }) => rest);
}
