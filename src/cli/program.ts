import { readFileSync } from "node:fs";
import { Command } from "commander";
import { packageFile } from "../core/package-file.js";
import { registerApply } from "./commands/apply.js";
import { registerAudit } from "./commands/audit.js";
import { registerDemo } from "./commands/demo.js";
import { registerDiscover } from "./commands/discover.js";
import { registerErase } from "./commands/erase.js";
import { registerHold } from "./commands/hold.js";
import { registerInit } from "./commands/init.js";
import { registerJanitor } from "./commands/janitor.js";
import { registerKeys } from "./commands/keys.js";
import { registerLifecycle } from "./commands/lifecycle.js";
import { registerPlan } from "./commands/plan.js";
import { registerReceipt } from "./commands/receipt.js";
import { registerRequests } from "./commands/requests.js";
import { registerScanLogs } from "./commands/scan-logs.js";
import { registerServe } from "./commands/serve.js";
import { registerShred } from "./commands/shred.js";
import { registerState } from "./commands/state.js";
import { registerToken } from "./commands/token.js";
import { registerValidate } from "./commands/validate.js";
import type { CommandResult } from "./result.js";

/** Runs one command body and hands its result back to the entry file. */
export type Runner = (fn: () => Promise<CommandResult>) => Promise<void>;

/**
 * Builds the commander program. Commands are thin: parse → call the library
 * → return a {@link CommandResult}; printing and exiting happen in main.ts.
 *
 * @example
 * let outcome: CommandResult | undefined;
 * await buildProgram(async (fn) => { outcome = await fn(); }).parseAsync(["node", "lethe", "plan", "--json"]);
 */
export function buildProgram(run: Runner): Command {
  const program = new Command()
    .name("lethe")
    .description("makes sensitive AI data disappear on time, and proves it")
    .version(packageVersion(), "-V, --version")
    .option("--config <path>", "config file (default ./lethe.yaml or $LETHE_CONFIG)")
    .option("--json", "one JSON document on stdout")
    .showHelpAfterError()
    .exitOverride();
  for (const register of [
    registerInit,
    registerDemo,
    registerPlan,
    registerApply,
    registerErase,
    registerRequests,
    registerReceipt,
    registerDiscover,
    registerHold,
    registerServe,
    registerToken,
    registerState,
    registerKeys,
    registerAudit,
    registerLifecycle,
    registerJanitor,
    registerScanLogs,
    registerShred,
    registerValidate,
  ]) {
    register(program, run);
  }
  // Let every subcommand accept --config/--json after its own name too.
  for (const cmd of allCommands(program)) {
    if (cmd === program) continue;
    cmd.option("--config <path>", "config file").option("--json", "one JSON document on stdout").exitOverride();
  }
  return program;
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(packageFile("../package.json"), "utf8")) as { version: string };
  return pkg.version;
}

function allCommands(cmd: Command): Command[] {
  return [cmd, ...cmd.commands.flatMap(allCommands)];
}
