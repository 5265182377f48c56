import { runCli } from "./run.js";

// stderr carries lethe's own messages only. The AWS SDK (loaded lazily, for s3 stores) prints a Node >= 22
// notice on every command under Node 20; lethe states its supported Node versions itself (README), so the
// CLI turns that notice off with the SDK's documented switch, unless the operator set it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

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
