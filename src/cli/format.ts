/** Small text helpers for human output. */
import { plain } from "../core/terminal-text.js";

// The escaping rule lives in core (the logger and the exports use it too); the CLI imports it from here.
export { jsonText, plain, terminalText } from "../core/terminal-text.js";

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
