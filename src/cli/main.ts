import { CommanderError } from "commander";
import { isLetheError, type LetheError, toLetheError } from "../core/errors.js";
import { EXIT_CODES } from "./exit-codes.js";
import { buildProgram } from "./program.js";
import type { CommandResult } from "./result.js";

/**
 * The CLI's entry: the only place that prints a command's result and calls
 * process.exit.
 */
const wantsJson = process.argv.includes("--json");
let outcome: CommandResult | undefined;

function fail(err: LetheError): number {
  if (wantsJson) process.stdout.write(`${JSON.stringify({ error: { code: err.code, message: err.message } })}\n`);
  process.stderr.write(`lethe: ${err.code === "CONFIG_INVALID" ? "configuration error" : "error"}: ${err.message}\n`);
  return EXIT_CODES[err.code];
}

async function main(): Promise<number> {
  const program = buildProgram(async (fn) => {
    outcome = await fn();
  });
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === "commander.helpDisplayed" || err.code === "commander.version" || err.exitCode === 0) return 0;
      return 2;
    }
    const e = isLetheError(err) ? err : toLetheError(err);
    if (!isLetheError(err)) process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
    return fail(e);
  }
  if (!outcome) return 0;
  if (outcome.raw !== undefined) process.stdout.write(outcome.raw);
  else if (wantsJson) {
    if (outcome.json !== undefined) process.stdout.write(`${JSON.stringify(outcome.json)}\n`);
  } else if (outcome.text) process.stdout.write(`${outcome.text}\n`);
  return outcome.exitCode;
}

main().then(
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
