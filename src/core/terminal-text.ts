/**
 * The one rule for what an untrusted string (a name, key, path or value read from a store, a config value, a
 * client's URL) may carry to a terminal, a log line or an export: every character a terminal acts on is shown
 * escaped. `plain` and `terminalText` write the escape for a person to read; `jsonText` writes it as a JSON
 * escape, so a JSON line still parses to the very same string.
 */

// C0 and C1 controls, DEL, the Unicode line/paragraph separators and the bidirectional overrides (they reorder
// what a terminal shows): everything that lets a name read from a store move the cursor, retitle the window,
// recolour the screen or forge a line.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
// The same, but a newline is kept: it separates the lines lethe itself composed.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const CONTROL_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t", "\x1b": "\\e" };

function escapeOne(c: string): string {
  const code = c.charCodeAt(0);
  return NAMED[c] ?? (code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16)}`);
}

function jsonEscapeOne(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

/**
 * One value (a table, key, path or file name read from a store) made safe to
 * print on a terminal: every control character, newlines included, is shown
 * escaped, so a name can neither run escape sequences nor start a line of its own.
 *
 * @example
 * plain("t\x1b[31mRED\nFAKE"); // "t\\e[31mRED\\nFAKE"
 */
export function plain(value: string): string {
  return value.replace(CONTROL, escapeOne);
}

/**
 * A whole human-readable output made safe for a terminal: what {@link plain}
 * escapes, except the newlines between lines. The CLI passes every text it
 * prints through it (results, errors, warnings); values that may hold a
 * newline are escaped with {@link plain} where they are placed.
 *
 * @example
 * terminalText("ok\n\x1b]0;pwned\x07"); // "ok\n\\e]0;pwned\\x07"
 */
export function terminalText(text: string): string {
  return text.replace(CONTROL_BUT_NEWLINE, escapeOne);
}

/**
 * A finished JSON line (or several) made safe for a terminal without changing what it means: JSON.stringify
 * already escapes C0 controls, but leaves DEL, C1 controls (U+009B is a CSI on many terminals), U+2028/2029 and
 * the bidirectional overrides raw; they become `\u` escapes, so `JSON.parse` returns exactly the same value.
 * The newlines between lines are kept (inside a JSON string a newline is always already escaped).
 *
 * @example
 * jsonText(`${JSON.stringify({ key: "a\u009b2Jb" })}\n`); // '{"key":"a\\u009b2Jb"}\n'
 */
export function jsonText(text: string): string {
  return text.replace(CONTROL_BUT_NEWLINE, jsonEscapeOne);
}
