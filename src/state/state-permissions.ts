import { chmodSync, closeSync, mkdirSync, openSync, statSync } from "node:fs";
import { join } from "node:path";

/** The SQLite state's files: the database and the WAL-mode companions SQLite creates beside it. */
const STATE_FILES = ["state.db", "state.db-wal", "state.db-shm"];

/**
 * Makes the state folder 0700 and every state file 0600 before SQLite opens
 * them, whatever already exists: the state holds wrapped keys and the ledger,
 * and an umask of 022 would otherwise leave them world-readable. A folder that
 * was wider is tightened (it is lethe's own) and reported through `warn`, so an
 * operator who shared it on purpose learns why access changed. SQLite creates
 * `-wal`/`-shm` with the mode of `state.db`, so pre-creating that one 0600 is
 * enough for files it creates later.
 *
 * @example
 * secureStateDir("/var/lib/lethe", (m) => console.warn(m));
 */
export function secureStateDir(dir: string, warn: (msg: string) => void = () => undefined): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const mode = statSync(dir).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    chmodSync(dir, 0o700);
    warn(`state folder was mode ${mode.toString(8)}, readable by others; changed to 700`);
  }
  // Created 0600 when absent (O_CREAT honours the mode); existing ones are tightened.
  closeSync(openSync(join(dir, STATE_FILES[0] as string), "a", 0o600));
  for (const name of STATE_FILES) {
    try {
      chmodSync(join(dir, name), 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
  }
}
