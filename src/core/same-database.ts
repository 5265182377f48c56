import { realpathSync, statSync } from "node:fs";

const PG = /^postgres(ql)?:\/\//;

/**
 * Do two store URLs name the same database? PostgreSQL: the same host (as
 * spelled), port (default 5432) and database name; SQLite (`sqlite:PATH`):
 * the same file, compared by device and inode after resolving links, so two
 * spellings of one path agree. Anything else, or a file that cannot be
 * read, is "not the same": the caller then keeps its general path.
 *
 * @example
 * sameDatabase("postgres://u@db:5432/app", "postgresql://other@db/app"); // true
 * sameDatabase("sqlite:/var/lib/lethe/state.db", "sqlite:/srv/../var/lib/lethe/state.db"); // true
 */
export function sameDatabase(a: string, b: string): boolean {
  if (a.startsWith("sqlite:") && b.startsWith("sqlite:")) return sameFile(a.slice(7), b.slice(7));
  if (!PG.test(a) || !PG.test(b)) return false;
  try {
    const x = new URL(a);
    const y = new URL(b);
    return x.hostname === y.hostname && (x.port || "5432") === (y.port || "5432") && x.pathname === y.pathname;
  } catch {
    return false;
  }
}

function sameFile(a: string, b: string): boolean {
  try {
    const x = statSync(realpathSync(a));
    const y = statSync(realpathSync(b));
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}
