import { CommanderError } from "commander";
import { isLetheError, type LetheError, toLetheError } from "../core/errors.js";
import { EXIT_CODES } from "./exit-codes.js";
import { jsonText, terminalText } from "./format.js";
import { buildProgram } from "./program.js";
import type { CommandResult } from "./result.js";

function fail(err: LetheError, wantsJson: boolean): number {
  if (wantsJson)
    process.stdout.write(`${jsonText(JSON.stringify({ error: { code: err.code, message: err.message } }))}\n`);
  const kind = err.code === "CONFIG_INVALID" ? "configuration error" : "error";
  process.stderr.write(`lethe: ${kind}: ${terminalText(err.message)}\n`);
  return EXIT_CODES[err.code];
}

/**
 * Runs one CLI invocation (`argv` as in `process.argv`, node and script first), prints its result on stdout
 * and errors on stderr, and returns the exit code. It never exits: only the entry file (main.ts) does, so
 * the same code also runs in-process (tests, embedding).
 *
 * @example
 * const code = await runCli(["node", "lethe", "audit", "verify", "--json"]);
 */
export async function runCli(argv: string[]): Promise<number> {
  const wantsJson = argv.includes("--json");
  let outcome: CommandResult | undefined;
  const program = buildProgram(async (fn) => {
    outcome = await fn();
  });
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === "commander.helpDisplayed" || err.code === "commander.version" || err.exitCode === 0) return 0;
      return 2;
    }
    const e = isLetheError(err) ? err : toLetheError(err);
    if (!isLetheError(err)) process.stderr.write(`${terminalText((err as Error)?.stack ?? String(err))}\n`);
    return fail(e, wantsJson);
  }
  const done = outcome as CommandResult | undefined;
  if (!done) return 0;
  if (done.raw !== undefined) process.stdout.write(done.raw);
  else if (wantsJson) {
    if (done.json !== undefined) process.stdout.write(`${jsonText(JSON.stringify(done.json))}\n`);
  } else if (done.text) process.stdout.write(`${terminalText(done.text)}\n`);
  return done.exitCode;
}
