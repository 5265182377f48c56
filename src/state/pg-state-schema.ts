import pg from "pg";
import ConnectionParameters from "pg/lib/connection-parameters.js";
import { STATE_SCHEMA, userSchema } from "./state-schema-name.js";

/**
 * The pg pool configuration of a connection to lethe's PostgreSQL state:
 * the URL's own settings, with `search_path` set to lethe's schema in the
 * startup packet, so it holds from the connection's first statement (no
 * query that could be lost or raced). Options the URL or PGOPTIONS already
 * carry are kept; lethe's search_path comes last and wins.
 *
 * @example
 * const pool = new pg.Pool(statePoolConfig(url, { max: 8 }));
 */
export function statePoolConfig(url: string, extra: pg.PoolConfig = {}): pg.PoolConfig {
  const own = new ConnectionParameters(url).options;
  const options = [own, `-c search_path=${STATE_SCHEMA}`].filter(Boolean).join(" ");
  // In the URL itself: pg lets a connection string's own `options` override the config's.
  const u = new URL(url);
  u.searchParams.set("options", options);
  return { ...extra, connectionString: u.toString() };
}

/**
 * The schema the user's unqualified table names mean on a plain connection
 * through `url` (its role's and database's default search_path, the URL's
 * options; see userSchema): where lethe's state lived before it had a schema
 * of its own.
 *
 * @example
 * await defaultSchemaOf("postgres://lethe@db/app"); // "public"
 */
export async function defaultSchemaOf(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => undefined);
  await client.connect();
  try {
    const r = await client.query<{ s: string[] | null }>("select current_schemas(false)::text[] as s");
    return userSchema(r.rows[0]?.s ?? []);
  } finally {
    await client.end().catch(() => undefined);
  }
}
