import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from "node:crypto";

/**
 * Ed25519 signatures over checkpoints and receipts. The message is a fixed
 * text form so any Ed25519 implementation can check it offline.
 *
 * @example
 * const ok = verifyCheckpoint(publicKeyPem, checkpoint);
 */
export interface Checkpoint {
  size: number;
  root: string;
  at: string;
  signature: string;
  /**
   * The signing key ({@link publicKeyId}); absent on checkpoints made before
   * key rotation existed (signed by the first key). Not signed: it only picks
   * the key, and the signature must then verify under that key.
   */
  keyId?: string;
}

/**
 * SHA-256 of the public key's SPKI DER, hex: names the key that signed (checkpoints, anchors, receipts).
 *
 * @example
 * publicKeyId(lethe.audit.publicKey()) === checkpoint.keyId; // signed by the current key
 */
export function publicKeyId(publicPem: string): string {
  const der = createPublicKey(publicPem).export({ format: "der", type: "spki" });
  return createHash("sha256").update(der).digest("hex");
}

export function checkpointMessage(c: Pick<Checkpoint, "size" | "root" | "at">): Buffer {
  return Buffer.from(`lethe-checkpoint/v1\n${c.size}\n${c.root}\n${c.at}\n`);
}

export function newSigningKeyDer(): Buffer {
  const { privateKey } = generateKeyPairSync("ed25519");
  return privateKey.export({ format: "der", type: "pkcs8" });
}

export function privateKeyFromDer(der: Buffer): KeyObject {
  return createPrivateKey({ key: der, format: "der", type: "pkcs8" });
}

export function publicKeyPem(priv: KeyObject): string {
  return createPublicKey(priv).export({ format: "pem", type: "spki" }).toString();
}

export function signBytes(priv: KeyObject, msg: Buffer): string {
  return sign(null, msg, priv).toString("base64");
}

export function verifyBytes(publicPem: string, msg: Buffer, signatureB64: string): boolean {
  try {
    return verify(null, msg, createPublicKey(publicPem), Buffer.from(signatureB64, "base64"));
  } catch {
    return false;
  }
}

/**
 * Whether a signed checkpoint (tree size, root, time) verifies under a public key PEM; offline.
 *
 * @example
 * verifyCheckpoint(readFileSync("lethe.pem", "utf8"), JSON.parse(readFileSync("cp.json", "utf8"))); // true
 */
export function verifyCheckpoint(publicPem: string, c: Checkpoint): boolean {
  return verifyBytes(publicPem, checkpointMessage(c), c.signature);
}

/** A stored checkpoint row as the {@link Checkpoint} it is (`key_id` NULL: signed before rotation existed). */
export function checkpointFromRow(r: {
  size: number | string | bigint;
  root: string;
  at: string;
  signature: string;
  key_id: string | null;
}): Checkpoint {
  return {
    size: Number(r.size),
    root: r.root,
    at: r.at,
    signature: r.signature,
    ...(r.key_id ? { keyId: r.key_id } : {}),
  };
}
