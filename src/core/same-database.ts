import { realpathSync, statSync } from "node:fs";
import ConnectionParameters from "pg/lib/connection-parameters.js";
import { sameInode } from "../safe-fs/identity.js";
import { LetheError } from "./errors.js";

const PG = /^postgres(ql)?:\/\//;

/**
 * Where a PostgreSQL URL really connects, resolved by the pg client's own
 * rules: query parameters (`?host=`, `?port=`) win over the authority, and
 * what the URL leaves out comes from PGHOST, PGPORT, PGUSER, PGDATABASE,
 * PGOPTIONS or pg's defaults, exactly as when the store connects.
 */
function pgTarget(url: string): { host: string; port: string; database: string; user: string; options: string } {
  const c = new ConnectionParameters(url);
  return {
    host: (c.host ?? "").toLowerCase(),
    port: String(c.port),
    database: c.database ?? "",
    user: c.user ?? "",
    options: c.options ?? "",
  };
}

/**
 * Do two store URLs name the same database? PostgreSQL: the same host,
 * port and database name as the pg client will connect to (query
 * parameters such as `?host=` or `?port=` count, as they do for the client,
 * and so do PG* environment variables for what a URL leaves out);
 * SQLite (`sqlite:PATH`): the same file, compared by device and inode after
 * resolving symlinks. Anything else, or a file that cannot be read, is "not
 * the same".
 *
 * @example
 * sameDatabase("postgres://u@db:5432/app", "postgresql://other@db/app"); // true
 * sameDatabase("postgres://u@db/app", "postgres://u@db/app?port=6000"); // false
 */
export function sameDatabase(a: string, b: string): boolean {
  if (a.startsWith("sqlite:") && b.startsWith("sqlite:")) return fileRelation(a.slice(7), b.slice(7)) !== "different";
  if (!PG.test(a) || !PG.test(b)) return false;
  try {
    const x = pgTarget(a);
    const y = pgTarget(b);
    return x.host === y.host && x.port === y.port && x.database === y.database;
  } catch {
    return false;
  }
}

/**
 * Can a delete through `a` run inside a transaction opened through `b` and
 * mean the same thing? The same database, and for PostgreSQL also the same
 * role and session options: an unqualified table name resolves through the
 * role's search_path, and the role's privileges decide what may be deleted,
 * so a store reached as another role (or with another search_path) is never
 * deleted from on lethe's state connection.
 *
 * @example
 * sameSession("postgres://app@db/x", "postgres://lethe@db/x"); // false: another role
 */
export function sameSession(a: string, b: string): boolean {
  if (!sameDatabase(a, b)) return false;
  if (a.startsWith("sqlite:")) return fileRelation(a.slice(7), b.slice(7)) === "same";
  try {
    const x = pgTarget(a);
    const y = pgTarget(b);
    return x.user === y.user && x.options === y.options;
  } catch {
    return false;
  }
}

/**
 * Refuses a SQLite store that is lethe's state file under another name (a
 * hard link): SQLite names its WAL after the path, so one database would get
 * two WALs and could be corrupted. A symlink, or the same path, is fine.
 *
 * @example
 * assertNotAliased("appdb", "sqlite:/srv/app.db", "sqlite:/var/lib/lethe/state.db");
 */
export function assertNotAliased(store: string, url: string, stateLocation: string): void {
  if (!url.startsWith("sqlite:") || !stateLocation.startsWith("sqlite:")) return;
  if (fileRelation(url.slice(7), stateLocation.slice(7)) === "aliased")
    throw new LetheError(
      "CONFIG_INVALID",
      `stores.${store}.url: the file is a hard link to lethe's state database; point the store at the state file itself (SQLite keeps one write-ahead log per path, two names for one file can corrupt it)`,
    );
}

/** "same": one file by one real path; "aliased": one file (dev+inode) by two real paths; else "different". */
function fileRelation(a: string, b: string): "same" | "aliased" | "different" {
  try {
    const ra = realpathSync(a);
    const rb = realpathSync(b);
    const x = statSync(ra);
    const y = statSync(rb);
    if (!sameInode(x, y)) return "different";
    return ra === rb ? "same" : "aliased";
  } catch {
    return "different";
  }
}
