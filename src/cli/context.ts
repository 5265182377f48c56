import type { StoreSelection } from "../core/data-map.js";
import { type Lethe, openLethe } from "../lethe.js";
import { terminalText } from "./format.js";
import type { GlobalOptions } from "./result.js";

/**
 * Opens lethe for one command and always closes it, so SQLite WALs are
 * checkpointed and pools drained even when the command fails. `stores`
 * names what the command needs: a command that only reads lethe's own
 * state passes "none" and never contacts a store (it works while one is down).
 *
 * @example
 * const entries = await withLethe(opts, (lethe) => lethe.audit.log({}), "none");
 */
export async function withLethe<T>(
  opts: GlobalOptions,
  fn: (lethe: Lethe) => Promise<T>,
  stores: StoreSelection = "all",
): Promise<T> {
  const lethe = await openLethe(opts.config, { stores, logger: cliLogger });
  try {
    return await fn(lethe);
  } finally {
    await lethe.close();
  }
}

/** What a command limited to one dataset (`--dataset`) needs: only that dataset's stores. */
export function storesFor(dataset: string | undefined): StoreSelection {
  return dataset === undefined ? "all" : { datasets: [dataset] };
}

/**
 * {@link withLethe} for commands that read or write only lethe's own state
 * (holds, the ledger, erasure-request intake): no store is contacted, so they
 * work while a store is down.
 *
 * @example
 * return withLetheState(opts, async (lethe) => result(await lethe.holds.list(), "…"));
 */
export function withLetheState<T>(opts: GlobalOptions, fn: (lethe: Lethe) => Promise<T>): Promise<T> {
  return withLethe(opts, fn, "none");
}

/**
 * A warning from a command that opens the state without openLethe, printed like openLethe's own.
 *
 * @example
 * cliWarn("state folder was mode 755, readable by others; changed to 700");
 */
export function cliWarn(message: string): void {
  process.stderr.write(`lethe: warning: ${terminalText(message)}\n`);
}

/** openLethe's warnings, through the same terminal escaping as every other line the CLI prints. */
const cliLogger = { warn: cliWarn, info: () => undefined };
