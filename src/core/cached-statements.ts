import type Database from "better-sqlite3";
import type { SqliteDatabase } from "kysely";

/** Distinct SQL texts kept prepared per connection; lethe issues a few dozen, user-driven SQL adds more. */
const KEEP = 256;

/**
 * A better-sqlite3 connection for Kysely's SqliteDialect that reuses the
 * prepared statement of a SQL text it has seen, instead of compiling it
 * again on every query (Kysely prepares per query: about a third of a small
 * query's cost). Reuse is safe because better-sqlite3 runs one statement at a
 * time per connection: while a stream iterates, no other statement may run
 * on that connection at all, cached or fresh.
 *
 * @example
 * const db = new Kysely<StateDatabase>({ dialect: new SqliteDialect({ database: cachedStatements(raw) }) });
 */
export function cachedStatements(raw: Database.Database, keep = KEEP): SqliteDatabase {
  const cache = new Map<string, Database.Statement>();
  return {
    close: () => {
      cache.clear();
      raw.close();
    },
    prepare(text: string) {
      const hit = cache.get(text);
      if (hit) {
        // Most recently used last, so the oldest is the one evicted.
        cache.delete(text);
        cache.set(text, hit);
        return hit;
      }
      const stmt = raw.prepare(text);
      if (cache.size >= keep) cache.delete(cache.keys().next().value as string);
      cache.set(text, stmt);
      return stmt;
    },
  };
}
