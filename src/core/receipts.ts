import { type Checkpoint, publicKeyId, verifyBytes, verifyCheckpoint } from "../ledger/signing.js";

/**
 * Signed erasure receipts. The signature is Ed25519 over
 * `"lethe-receipt/v1\n" ‖ JCS(receipt)` — the receipt object in canonical
 * JSON (RFC 8785 for the values receipts hold: keys sorted by UTF-16 code
 * units, no whitespace, integers, strings as JSON.stringify writes them).
 * The file itself is the whole document with sorted keys, two-space indent
 * and one trailing newline; verification also demands that exact byte form,
 * so not a single byte of a receipt file can change unnoticed — not even
 * whitespace, which the signature alone would not cover.
 *
 * @example
 * const text = receiptFileText(signReceipt((m) => ledger.sign(m), publicPem, body));
 * verifyReceiptText(Buffer.from(text), publicPem).ok; // true
 */
export const RECEIPT_TYPE = "lethe-erasure-receipt";
const DOMAIN = "lethe-receipt/v1\n";

export interface ReceiptDataset {
  name: string;
  found: number;
  deleted: number;
  held: number;
  filesRemoved: number;
  failed: number;
}

export interface ReceiptBody {
  type: typeof RECEIPT_TYPE;
  version: 1;
  requestId: string;
  subjectHash: string;
  status: string;
  receivedAt: string;
  dueAt: string;
  startedAt: string | null;
  completedAt: string | null;
  issuedAt: string;
  policyHash: string | null;
  datasets: ReceiptDataset[];
  held: { holdId: string; reason: string; dataset: string; count: number }[];
  lineage: { dataset: string; derived: { dataset: string; count: number; artifacts: (string | number)[] }[] }[];
  actions: { action: string; detail?: string }[];
  runIds: string[];
  ledger: { first: number; last: number; checkpoint: Checkpoint };
}

export interface SignedReceipt {
  receipt: ReceiptBody;
  signature: { alg: "Ed25519"; keyId: string; value: string };
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function sortDeep(v: unknown): Json {
  if (Array.isArray(v)) return v.map(sortDeep);
  if (v !== null && typeof v === "object") {
    const out: { [k: string]: Json } = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = sortDeep(x);
    }
    return out;
  }
  if (typeof v === "number" && !Number.isFinite(v)) throw new TypeError("receipts hold finite numbers only");
  return v as Json;
}

/**
 * RFC 8785 canonical JSON for receipt values.
 *
 * @example
 * canonicalJson({ b: 1, a: [2, { d: 1, c: 2 }] }); // '{"a":[2,{"c":2,"d":1}],"b":1}'
 */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(sortDeep(v));
}

/** SHA-256 of the public key's DER, hex: names the key that signed (the same id checkpoints carry). */
export const keyId = publicKeyId;

function message(body: ReceiptBody): Buffer {
  return Buffer.from(DOMAIN + canonicalJson(body));
}

export function signReceipt(sign: (msg: Buffer) => string, publicPem: string, body: ReceiptBody): SignedReceipt {
  return { receipt: body, signature: { alg: "Ed25519", keyId: keyId(publicPem), value: sign(message(body)) } };
}

/**
 * The one byte form of a receipt file.
 *
 * @example
 * writeFileSync("receipt.json", receiptFileText(signed)); // verifyReceiptText(readFileSync(…), pem) accepts it
 */
export function receiptFileText(r: SignedReceipt): string {
  return `${JSON.stringify(sortDeep(r), null, 2)}\n`;
}

export interface ReceiptVerification {
  ok: boolean;
  reason?: string;
  requestId?: string;
  status?: string;
}

const TOP_KEYS = ["receipt", "signature"];
const SIGNATURE_KEYS = ["alg", "keyId", "value"];

/** The first key path outside what the signature covers (`receipt`, and the signature's own three fields). */
function unsignedField(doc: object): string | undefined {
  const top = Object.keys(doc).find((k) => !TOP_KEYS.includes(k));
  if (top !== undefined) return JSON.stringify(top);
  const sig = (doc as SignedReceipt).signature;
  if (typeof sig !== "object" || Array.isArray(sig)) return "signature";
  const inner = Object.keys(sig).find((k) => !SIGNATURE_KEYS.includes(k));
  return inner === undefined ? undefined : `signature.${JSON.stringify(inner)}`;
}

/**
 * Offline check of a receipt file's bytes with only the public key PEM:
 * exact canonical form, Ed25519 signature, and the embedded ledger
 * checkpoint's own signature.
 *
 * @example
 * const r = verifyReceiptText(readFileSync("receipt.json"), readFileSync("lethe.pem", "utf8"));
 * if (!r.ok) console.error(r.reason);
 */
export function verifyReceiptText(bytes: Buffer, publicPem: string): ReceiptVerification {
  const fail = (reason: string): ReceiptVerification => ({ ok: false, reason });
  let doc: SignedReceipt;
  try {
    doc = JSON.parse(bytes.toString("utf8")) as SignedReceipt;
  } catch {
    return fail("not valid JSON");
  }
  if (!doc || typeof doc !== "object" || !doc.receipt || !doc.signature) return fail("not a lethe receipt");
  // The signature covers `receipt` only: any field beside it or inside `signature` is unsigned, so refused.
  const extra = unsignedField(doc);
  if (extra) return fail(`the field ${extra} is not covered by the signature: the receipt was altered`);
  let canonical: Buffer;
  try {
    canonical = Buffer.from(receiptFileText(doc));
  } catch {
    return fail("not a lethe receipt");
  }
  if (!canonical.equals(bytes)) return fail("the file is not byte-identical to its canonical form: it was altered");
  const { receipt, signature } = doc;
  if (receipt.type !== RECEIPT_TYPE || receipt.version !== 1) return fail("not a lethe erasure receipt (type/version)");
  if (signature.alg !== "Ed25519" || typeof signature.value !== "string") return fail("unsupported signature");
  // Base64 has several spellings of one signature; only the canonical one is accepted.
  if (Buffer.from(signature.value, "base64").toString("base64") !== signature.value) return fail("malformed signature");
  let id: string;
  try {
    id = keyId(publicPem);
  } catch {
    return fail("the public key is not a valid PEM");
  }
  if (signature.keyId !== id) return fail("signed by a different key than the one given");
  if (!verifyBytes(publicPem, message(receipt), signature.value))
    return fail("signature does not match: the receipt was altered");
  const cp = receipt.ledger?.checkpoint;
  if (!cp || !verifyCheckpoint(publicPem, cp)) return fail("the embedded ledger checkpoint's signature is invalid");
  if (cp.size < receipt.ledger.last) return fail("the embedded checkpoint does not cover the receipt's ledger range");
  return { ok: true, requestId: receipt.requestId, status: receipt.status };
}
