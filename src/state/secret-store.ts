import { open, seal } from "../crypto/aead.js";
import type { StateHandle } from "./open-state.js";

/** The AAD that binds a wrapped secret to its name (a box moved to another name fails to open). */
export function secretAad(name: string): Buffer {
  return Buffer.from(`lethe-secret:${name}`);
}

/**
 * Long-lived keys kept in the state database, each wrapped by the master key.
 * Several instances racing to create one converge on whichever row won.
 *
 * @example
 * const hmacKey = await getOrCreateSecret(state, master, "subject-hmac", () => randomBytes(32));
 */
export async function getOrCreateSecret(
  state: StateHandle,
  masterKey: Buffer,
  name: string,
  create: () => Buffer,
): Promise<Buffer> {
  const aad = secretAad(name);
  const read = async () => state.db.selectFrom("secrets").select("value").where("name", "=", name).executeTakeFirst();
  let row = await read();
  if (!row) {
    const value = seal(masterKey, create(), aad).toString("base64");
    await state.db
      .insertInto("secrets")
      .values({ name, value, created_at: new Date().toISOString() })
      .onConflict((oc) => oc.column("name").doNothing())
      .execute();
    row = await read();
  }
  if (!row) throw new Error(`secret ${name} vanished after insert`);
  return open(masterKey, Buffer.from(row.value, "base64"), aad);
}
