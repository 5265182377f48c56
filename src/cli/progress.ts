/** One progress event: `done` items handled of `expected` to delete; `held` of the handled ones were kept back. */
export interface Progress {
  dataset: string;
  done: number;
  expected: number;
  held?: number;
}

/**
 * The progress line. Held items are handled but not deleted, and the
 * expected count leaves them out, so they are shown on their own: a fully
 * held dataset reads `0/0 (60 held)`, never `60/0`.
 *
 * @example
 * progressLine({ dataset: "logs", done: 60, expected: 0, held: 60 }); // "  logs  [####…] 0/0 (60 held)"
 */
export function progressLine({ dataset, done, expected, held = 0 }: Progress): string {
  const width = 24;
  const work = Math.max(0, done - held);
  const total = Math.max(work, expected);
  const frac = total > 0 ? work / total : 1;
  const bar = "#".repeat(Math.round(frac * width)).padEnd(width, ".");
  return `  ${dataset.padEnd(20)} [${bar}] ${work}/${total}${held > 0 ? ` (${held} held)` : ""}`;
}

/**
 * Live counts on stderr while long work runs, only when a person watches
 * (stderr is a TTY and --json is off). Redraws at most ten times a second.
 */
export function progressReporter(enabled: boolean): (p: Progress) => void {
  if (!enabled || !process.stderr.isTTY) return () => undefined;
  let last = 0;
  return (p) => {
    const now = Date.now();
    const finished = p.done - (p.held ?? 0) >= p.expected;
    if (now - last < 100 && !finished) return;
    last = now;
    process.stderr.write(`\r${progressLine(p)}`);
    if (finished) process.stderr.write("\n");
  };
}
