import type { DatasetConfig } from "../../config/types.js";
import { LetheError } from "../errors.js";
import type { Item } from "../types.js";

/**
 * One spelling per item and per subject. An odd spelling of a key
 * (`users//alice/b.bin`, `users/./alice/b.bin`, a decomposed `é`) can reach
 * the same file as the canonical one while a subject pattern, a hold or an
 * audit lookup sees a different string; so every entry point (events, plan
 * files, erasure, holds, HTTP) passes keys and subject ids through here and
 * anything that is not already canonical is refused, never rewritten. The
 * key itself is never echoed: it may carry a subject id.
 *
 * @example
 * canonicalKey(ds.config, "users/alice/b.bin", "artifacts.0.key"); // "users/alice/b.bin"
 * canonicalKey(ds.config, "users//alice/b.bin", "artifacts.0.key"); // throws VALIDATION (empty path segment)
 */
export function canonicalKey(config: Pick<DatasetConfig, "storeKind">, key: Item["key"], where: string): Item["key"] {
  if (typeof key === "number" && Number.isSafeInteger(key))
    // Path stores name files and objects by text: 7 and "7" are the same item, spelled once.
    return PATH_KINDS.has(config.storeKind) ? String(key) : key;
  const problem = keyProblem(config, key);
  if (problem) throw refused(where, problem);
  return key;
}

/**
 * Why a key is not canonical for its dataset's store, or undefined. The
 * executor asks this of every item it is handed, so an item a scan found
 * under an odd name (an NFD folder a subject hold in NFC would never match,
 * an S3 object `users//alice/x`) is left alone and reported, not deleted.
 *
 * @example
 * keyProblem({ storeKind: "s3" }, "a//b"); // "has an empty path segment (//)"
 */
export function keyProblem(config: Pick<DatasetConfig, "storeKind">, key: Item["key"]): string | undefined {
  if (typeof key === "number") return Number.isSafeInteger(key) ? undefined : "is a number that is not a safe integer";
  if (typeof key !== "string" || key.length === 0) return "is empty";
  return PATH_KINDS.has(config.storeKind) ? pathKeyProblem(key) : opaqueKeyProblem(key);
}

/** The longest subject id accepted anywhere (CLI, library, HTTP API): one rule, so all three agree. */
export const MAX_SUBJECT_LENGTH = 512;

/**
 * A subject id as holds, erasure and the ledger's subject HMAC must see it:
 * well-formed NFC text, no control characters, no surrounding whitespace
 * (`alice` and `alice ` would otherwise be two subjects with one owner).
 *
 * @example
 * canonicalSubject("user-42", "subject"); // "user-42"
 */
export function canonicalSubject(subject: unknown, where: string): string {
  if (typeof subject !== "string" || subject.length === 0) throw refused(where, "is empty", "subject id");
  if (subject.length > MAX_SUBJECT_LENGTH)
    throw refused(where, `is longer than ${MAX_SUBJECT_LENGTH} characters`, "subject id");
  const problem =
    textProblem(subject) ?? (subject.trim() !== subject ? "has leading or trailing whitespace" : undefined);
  if (problem) throw refused(where, problem, "subject id");
  return subject;
}

/** Stores whose keys are `/`-separated paths relative to a root or bucket. */
const PATH_KINDS = new Set<string>(["fs", "s3"]);

// C0 and C1 controls, DEL, and the Unicode line/paragraph separators (they split log lines too).
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** What makes a text key or subject id non-canonical, or undefined. */
export function textProblem(s: string): string | undefined {
  if (LONE_SURROGATE.test(s)) return "is not well-formed Unicode (a lone surrogate)";
  if (CONTROL.test(s)) return "contains a control character";
  if (s.normalize("NFC") !== s) return "is not in Unicode NFC form (normalize it first)";
  return undefined;
}

/**
 * Row and cache keys are whatever the database stores, compared the way its
 * column compares them: the driver maps a key to the item the store has (its
 * own spelling, its own subject), so only what no store can hold is refused.
 */
export function opaqueKeyProblem(key: string): string | undefined {
  if (LONE_SURROGATE.test(key)) return "is not well-formed Unicode (a lone surrogate)";
  if (key.includes("\0")) return "contains a NUL character";
  return undefined;
}

/** What makes a path key non-canonical, or undefined. */
export function pathKeyProblem(key: string): string | undefined {
  const text = textProblem(key);
  if (text) return text;
  if (key.startsWith("/")) return "starts with / (keys are relative to the dataset's root or bucket)";
  if (key.endsWith("/")) return "ends with / (a key names a file or object, not a folder)";
  if (key.includes("//")) return "has an empty path segment (//)";
  if (key.split("/").some((s) => s === "." || s === "..")) return "has a . or .. path segment";
  return undefined;
}

function refused(where: string, problem: string, what = "key"): LetheError {
  return new LetheError("VALIDATION", `${where}: the ${what} ${problem}; only canonical spellings are accepted`);
}
