import type { RawSql } from "../conformance/sql-fixture.js";

/** The creation time every seeded row gets: long expired under any test's retention. */
export const OLD = "2020-01-01 00:00:00";

/**
 * Creates `logs (id, user_id, created_at)` and fills it with `rows` expired rows whose subjects are
 * `user-<id % users>`: the one table the retention and crash tests delete from, in SQLite, PostgreSQL or MariaDB.
 *
 * @example
 * await seedLogs(rawPg(db.url), "pg", 12_000, { index: true });
 */
export async function seedLogs(
  raw: RawSql,
  engine: "sqlite" | "pg" | "mysql",
  rows: number,
  opts: { users?: number; index?: boolean } = {},
): Promise<void> {
  const users = opts.users ?? 97;
  const text = engine === "mysql" ? "varchar(64)" : "text";
  await raw.exec(`create table logs (id bigint primary key, user_id ${text}, created_at ${text} not null)`);
  if (opts.index) await raw.exec("create index logs_created on logs (created_at)");
  if (engine === "mysql") {
    // No generate_series: multi-row inserts of 5,000.
    for (let from = 1; from <= rows; from += 5000) {
      const chunk = Array.from({ length: Math.min(5000, rows - from + 1) }, (_, i) => {
        const g = from + i;
        return [g, `user-${g % users}`, OLD];
      });
      await raw.exec("insert into logs values ?", [chunk]);
    }
    return;
  }
  await raw.exec(
    engine === "pg"
      ? `insert into logs select g, 'user-' || (g % ${users}), '${OLD}' from generate_series(1, ${rows}) g`
      : `with recursive n(g) as (select 1 union all select g + 1 from n where g < ${rows})
         insert into logs select g, 'user-' || (g % ${users}), '${OLD}' from n`,
  );
}
