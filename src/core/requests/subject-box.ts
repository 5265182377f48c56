import { randomBytes } from "node:crypto";
import { open, seal } from "../../crypto/aead.js";
import type { StateHandle } from "../../state/open-state.js";
import { getOrCreateSecret } from "../../state/secret-store.js";

/**
 * A queued request must remember its subject until it is processed, yet
 * lethe's state never holds a raw subject id. The id is sealed with
 * AES-256-GCM under a dedicated key that is itself wrapped by the master
 * key; the AAD binds the box to its request, so a box copied onto another
 * request does not open. The box is wiped (NULL, secure_delete) on completion.
 *
 * @example
 * const key = await requestSubjectKey(state, masterKey);
 * const box = sealSubject(key, "req_1", "user-42"); openSubject(key, "req_1", box); // "user-42"
 */
export async function requestSubjectKey(state: StateHandle, masterKey: Buffer): Promise<Buffer> {
  return getOrCreateSecret(state, masterKey, "erasure-request-subjects", () => randomBytes(32));
}

const aad = (requestId: string) => Buffer.from(`lethe-erasure-request\0${requestId}`);

export function sealSubject(key: Buffer, requestId: string, subject: string): string {
  return seal(key, Buffer.from(subject, "utf8"), aad(requestId)).toString("base64");
}

export function openSubject(key: Buffer, requestId: string, box: string): string {
  const plain = open(key, Buffer.from(box, "base64"), aad(requestId));
  const s = plain.toString("utf8");
  plain.fill(0);
  return s;
}
