/**
 * Live counts on stderr while long work runs, only when a person watches
 * (stderr is a TTY and --json is off). Redraws at most ten times a second.
 */
export function progressReporter(enabled: boolean): (p: { dataset: string; done: number; expected: number }) => void {
  if (!enabled || !process.stderr.isTTY) return () => undefined;
  let last = 0;
  return ({ dataset, done, expected }) => {
    const now = Date.now();
    if (now - last < 100 && done < expected) return;
    last = now;
    const width = 24;
    const frac = expected > 0 ? Math.min(1, done / expected) : 1;
    const bar = "#".repeat(Math.round(frac * width)).padEnd(width, ".");
    process.stderr.write(`\r  ${dataset.padEnd(20)} [${bar}] ${done}/${expected}`);
    if (done >= expected) process.stderr.write("\n");
  };
}
