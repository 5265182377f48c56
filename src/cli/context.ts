import { type Lethe, openLethe } from "../lethe.js";
import type { GlobalOptions } from "./result.js";

/**
 * Opens lethe for one command and always closes it, so SQLite WALs are
 * checkpointed and pools drained even when the command fails.
 */
export async function withLethe<T>(opts: GlobalOptions, fn: (lethe: Lethe) => Promise<T>): Promise<T> {
  const lethe = await openLethe(opts.config);
  try {
    return await fn(lethe);
  } finally {
    await lethe.close();
  }
}
