/**
 * Redis keys are bytes; lethe's items, intents and ledger name them by text.
 * A key that is UTF-8 text is named by that text; any other key (invalid
 * UTF-8, or text holding a NUL or starting with U+FFFD) by `U+FFFD hex:`
 * and its bytes in hex. The two spellings never meet (a text name never
 * starts with U+FFFD), so every key has exactly one name and the name gives
 * back its exact bytes: such keys are counted, expired, erased and reported
 * as residue like any other.
 *
 * @example
 * keyName(Buffer.from("c:p:bob:1"));            // "c:p:bob:1"
 * keyName(Buffer.from([0x63, 0x3a, 0xff]));     // "\uFFFDhex:633aff"
 * keyBytes("\uFFFDhex:633aff");                 // <Buffer 63 3a ff>
 */
const MARK = "\uFFFD";
const HEX = `${MARK}hex:`;
// ignoreBOM keeps a leading U+FEFF in the text: stripping it would name two keys alike.
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * UTF-8 text, or undefined when the bytes are not valid UTF-8.
 *
 * @example
 * utf8Text(Buffer.from("bob")); // "bob"
 * utf8Text(Buffer.from([0xff])); // undefined
 */
export function utf8Text(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * The one name of a key.
 *
 * @example
 * keyName(Buffer.from([0x63, 0x3a, 0xff])); // "\uFFFDhex:633aff"
 */
export function keyName(bytes: Buffer): string {
  const text = utf8Text(bytes);
  if (text !== undefined && !text.startsWith(MARK) && !text.includes("\0")) return text;
  return HEX + bytes.toString("hex");
}

/**
 * The key's bytes for a name (a name that is not the key's one name gives bytes whose name differs).
 *
 * @example
 * keyBytes("c:p:bob:1"); // <Buffer 63 3a 70 3a 62 6f 62 3a 31>
 */
export function keyBytes(name: string): Buffer {
  const hex = name.startsWith(HEX) ? name.slice(HEX.length) : undefined;
  if (hex !== undefined && hex.length % 2 === 0 && /^[0-9a-f]*$/.test(hex)) return Buffer.from(hex, "hex");
  return Buffer.from(name, "utf8");
}

/**
 * Whether `name` is the one name of the key it gives bytes for.
 *
 * @example
 * isKeyName("c:p:bob:1"); // true
 * isKeyName("\uFFFDhex:6f"); // false: "o" is named by its text
 */
export function isKeyName(name: string): boolean {
  return keyName(keyBytes(name)) === name;
}
