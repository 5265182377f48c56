import { existsSync } from "node:fs";
import { sql } from "kysely";
import type { DatasetConfig, SqlStoreConfig, StoreConfig } from "../../config/types.js";
import { LetheError } from "../../core/errors.js";
import { safeReason } from "../../core/safe-reason.js";
import type { Issues, PurgeReport, StoreDriver } from "../../core/types.js";
import { discoverTables } from "./discover.js";
import { partitionsOf } from "./partitions-of.js";
import { SqlDataset } from "./sql-dataset.js";
import { openSqliteTarget } from "./sqlite-target.js";
import type { TargetDialect } from "./target-dialect.js";

/** Picks the target dialect from the URL scheme; the only place that looks at it. */
async function openTarget(cfg: SqlStoreConfig): Promise<TargetDialect> {
  if (cfg.url.startsWith("sqlite:")) {
    const path = cfg.url.slice("sqlite:".length);
    if (!existsSync(path))
      throw new LetheError("CONFIG_INVALID", `stores.${cfg.name}.url: database file not found: ${path}`);
    return openSqliteTarget(path, cfg.busyTimeoutMs);
  }
  const server = /^(postgres(ql)?|mysql|mariadb):\/\//.exec(cfg.url);
  // A malformed URL is the config's fault, not a store that is down: exit 2, named, the URL never echoed.
  if (server && !URL.canParse(cfg.url))
    throw new LetheError(
      "CONFIG_INVALID",
      `stores.${cfg.name}.url: not a valid URL (percent-encode characters such as @ : / # ? % in the user name and password)`,
    );
  // Loaded on demand: the pg and mysql2 clients cost every CLI start that does not need them.
  if (server?.[1]?.startsWith("postgres")) return (await import("./postgres-target.js")).openPostgresTarget(cfg.url);
  if (server) {
    const { openMysqlTarget } = await import("./mysql-target.js");
    try {
      return openMysqlTarget(cfg.url);
    } catch (err) {
      // mysql2 checks the URL's options (e.g. an unknown ?ssl= profile) when the pool is created.
      throw new LetheError("CONFIG_INVALID", `stores.${cfg.name}.url: ${safeReason(err)}`);
    }
  }
  throw new LetheError(
    "CONFIG_INVALID",
    `stores.${cfg.name}.url: expected sqlite:PATH, postgres://…, mysql://… or mariadb://…`,
  );
}

/** Column types whose values arrive as bytes (MariaDB/MySQL, PostgreSQL; SQLite's declared types do not bind values). */
const BINARY_TYPE = /^(binary|varbinary|tinyblob|blob|mediumblob|longblob|bytea)\b/;

export interface SqlStoreDriver extends StoreDriver {
  readonly target: TargetDialect;
}

/**
 * The `sql` store: SQLite files, PostgreSQL and MariaDB/MySQL databases.
 *
 * @example
 * const store = await createSqlStore({ name: "appdb", kind: "sql", url: "sqlite:/data/app.db" });
 */
export async function createSqlStore(config: StoreConfig): Promise<SqlStoreDriver> {
  if (config.kind !== "sql") throw new Error("createSqlStore needs an sql store");
  const target = await openTarget(config);
  try {
    await sql`select 1`.execute(target.db);
  } catch (err) {
    await target.close().catch(() => undefined);
    throw new LetheError("STORE_ERROR", `stores.${config.name}: cannot connect: ${(err as Error).message}`, undefined, {
      cause: err,
    });
  }
  return {
    config,
    target,
    async dataset(ds: DatasetConfig, issues: Issues) {
      const p = `datasets.${ds.name}`;
      const table = ds.table as string;
      // Every statement names the table schema-qualified: same-database deletes run on lethe's state connection.
      const qualified = target.qualify ? await target.qualify(table) : table;
      const info = await target.introspect(qualified);
      if (!info) {
        issues.error(`${p}.table`, `table "${table}" does not exist in store ${config.name}`);
        return undefined;
      }
      if (info.undeletable) {
        issues.error(`${p}.table`, `table "${table}": ${info.undeletable}`);
        return undefined;
      }
      let ok = true;
      const need = (field: string, col: string | undefined) => {
        if (col === undefined) return "";
        const c = info.columns.get(col);
        if (!c) {
          issues.error(`${p}.${field}`, `column "${col}" does not exist in table ${table}`);
          ok = false;
          return "";
        }
        return c.type;
      };
      const keyType = need("key", ds.key);
      const subjectType = need("subject", ds.subject);
      const createdType = need("createdAt", ds.createdAt);
      need("files.column", ds.files?.column);
      const retentionType = ds.retention.kind === "column" ? need("retention.column", ds.retention.column) : "";
      if (!ok) return undefined;
      if (target.name !== "sqlite" && BINARY_TYPE.test(keyType)) {
        // Keys travel as text or integers (ledger, plans, events); bytes would be read back as no key at all.
        issues.error(
          `${p}.key`,
          `column "${ds.key}" is binary (${keyType}): binary keys are not supported; use an integer or text key column`,
        );
        return undefined;
      }
      const keyUnique = info.uniqueColumns.has(ds.key as string);
      if (!keyUnique)
        // Deletes then also match each row's subject (sql-dataset.ts), so a held subject's row sharing a key survives.
        issues.warn(
          `${p}.key`,
          `column "${ds.key}" is not unique in table ${table} (no PRIMARY KEY or UNIQUE index consists of it alone): ` +
            "rows sharing a key are told apart by their subject; a unique key is faster and exact",
        );
      if (ds.subject && !info.indexed.has(ds.subject))
        issues.warn(`${p}.subject`, `column "${ds.subject}" has no index; erasure will scan the whole table`);
      if (ds.createdAt && !info.indexed.has(ds.createdAt) && ds.retention.kind !== "never")
        issues.warn(`${p}.createdAt`, `column "${ds.createdAt}" has no index; expiry will scan the whole table`);
      const createdCol = ds.createdAt ? info.columns.get(ds.createdAt) : undefined;
      const timeProblem = createdCol && ds.retention.kind !== "never" && target.unreadableTimeType?.(createdType);
      if (timeProblem) {
        issues.error(`${p}.createdAt`, `column "${ds.createdAt}": ${timeProblem}`);
        return undefined;
      }
      const encoding = createdCol ? await target.detectEncoding(qualified, createdCol) : "empty";
      if (createdCol && encoding !== "empty") {
        const expr = target.epochSeconds(createdCol.name, encoding, createdType);
        const r = await sql<{
          n: number;
        }>`select count(*) as n from (select ${sql.id(createdCol.name)} as v, ${expr} as e
          from ${sql.table(qualified)} where ${sql.id(createdCol.name)} is not null limit 1000) s where e is null`.execute(
          target.db,
        );
        const bad = Number(r.rows[0]?.n ?? 0);
        if (bad > 0)
          issues.warn(
            `${p}.createdAt`,
            `${bad} of the first 1000 values are not readable timestamps; such rows never expire`,
          );
      }
      const cols = {
        table: qualified,
        key: ds.key as string,
        keyType,
        subject: ds.subject,
        subjectType,
        createdAt: ds.createdAt,
        createdType,
        createdIndexed: ds.createdAt !== undefined && info.indexed.has(ds.createdAt),
        encoding,
        file: ds.files?.column,
        retentionType,
        keyUnique,
      };
      return new SqlDataset(ds, target, cols, await partitionsOf(target, ds, cols, issues), config.url);
    },
    async scrub() {
      await target.scrub();
    },
    discover: (opts) => discoverTables(target, opts.sampleSize),
    ...(target.purge
      ? {
          purge: (values, mode, windowMs) =>
            target.purge?.(config.name, values, mode, windowMs) as Promise<PurgeReport>,
        }
      : {}),
    async close() {
      await target.close();
    },
  };
}
