import { runCli } from "./run.js";

/** The CLI's entry: the only place that calls process.exit. */
runCli(process.argv).then(
  (code) => {
    process.exitCode = code;
    // Drain stdout before leaving so piped JSON is never cut short.
    process.stdout.write("", () => process.exit(code));
  },
  (err) => {
    process.stderr.write(`lethe: internal error: ${String(err)}\n`);
    process.exit(1);
  },
);
