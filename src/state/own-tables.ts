import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler } from "kysely";
import { migrationProvider } from "./migrations/index.js";

let cached: Promise<Set<string>> | undefined;

/**
 * The names of the tables lethe's own migrations create, found by running
 * every migration against a driver that executes nothing and recording the
 * `create table` statements. Used when lethe's state shares a database with
 * user data (discover must not report lethe's ledger as unmapped personal
 * data); it stays right as migrations are added, with no list to maintain.
 *
 * @example
 * (await ownTableNames()).has("ledger"); // true
 */
export function ownTableNames(): Promise<Set<string>> {
  cached ??= collect();
  return cached;
}

async function collect(): Promise<Set<string>> {
  const names = new Set<string>(["lethe_migrations", "lethe_migrations_lock"]);
  const db = new Kysely<unknown>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (k) => new PostgresIntrospector(k),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
    log: (event) => {
      const m = /^create table (?:if not exists )?"?([A-Za-z0-9_.]+)"?/i.exec(event.query.sql);
      if (m?.[1]) names.add(m[1]);
    },
  });
  for (const m of Object.values(await migrationProvider.getMigrations())) {
    try {
      await m.up(db);
    } catch {
      // A migration that needs real results stops early; the tables it declared so far are recorded.
    }
  }
  await db.destroy();
  return names;
}
