/** Small text helpers for human output. */

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
 * newline are escaped with {@link plain} where they are placed ({@link table} does it for its cells).
 *
 * @example
 * terminalText("ok\n\x1b]0;pwned\x07"); // "ok\n\\e]0;pwned\\x07"
 */
export function terminalText(text: string): string {
  return text.replace(CONTROL_BUT_NEWLINE, escapeOne);
}

/**
 * Aligned columns; every cell goes through {@link plain}, so one row stays one line.
 *
 * @example
 * table([["dataset", "due"], ["logs", 12]]);
 */
export function table(rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map((c) => (typeof c === "number" ? c : plain(String(c)))));
  const widths: number[] = [];
  for (const r of cells) {
    r.forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, String(c).length);
    });
  }
  return cells
    .map((r) =>
      r
        .map((c, i) => (typeof c === "number" ? String(c).padStart(widths[i] ?? 0) : String(c).padEnd(widths[i] ?? 0)))
        .join("  "),
    )
    .join("\n");
}

export function bytes(n: number | undefined): string {
  if (n === undefined) return "";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(u === 0 ? 0 : 1)} ${units[u]}`;
}
