import pg from "pg";
import { describe, expect, it } from "vitest";
import type { RawSql } from "../conformance/sql-fixture.js";
import { auditExport, letheIn } from "../helpers/cli.js";
import { requireService } from "../helpers/services.js";
import { pgProject, usePgDatabases } from "./partition-fixtures.js";

/**
 * Partitions lethe must not detach and drop whole (docs/partitions.md): a
 * foreign table, a table a foreign key references, a table the application
 * holds a lock on, a step the database refuses. Each goes the row way (or is
 * finished by the next run) and the run says so, without a crash.
 */

const database = usePgDatabases();

interface Entry {
  action: string;
  item?: number;
  key?: number;
  data?: Record<string, unknown>;
}

interface Result {
  datasets: {
    deleted: number;
    failed: number;
    partitionsDropped?: number;
    partitionsSkipped?: { partition: string; reason: string }[];
  }[];
}

/** `p`, range-partitioned by year on created_at: p_old (2000) and p_old2 (2001) wholly expired, p_new current. */
async function partitioned(raw: RawSql, foreign = ""): Promise<void> {
  await raw.exec(
    `create table p (id int not null, user_id text, created_at timestamptz not null${foreign ? "" : ", primary key (id, created_at)"}) partition by range (created_at)`,
  );
  await raw.exec(`create ${foreign ? "foreign " : ""}table p_old partition of p
    for values from ('2000-01-01') to ('2001-01-01') ${foreign}`);
  await raw.exec("create table p_old2 partition of p for values from ('2001-01-01') to ('2002-01-01')");
  await raw.exec("create table p_new partition of p for values from ('2002-01-01') to (maxvalue)");
}

function project(url: string): string {
  return pgProject(url, "p: { store: db, table: p, key: id, subject: user_id, createdAt: created_at, retention: 30d }");
}

async function apply(dir: string): Promise<{ code: number; stderr: string; result: Result["datasets"][number] }> {
  const r = await letheIn(["apply", "--json"], dir);
  return { code: r.code, stderr: r.stderr, result: (r.json as Result | undefined)?.datasets[0] as never };
}

const entries = (dir: string) => auditExport<Entry>(dir);

const deletedKeys = (log: Entry[]) =>
  log
    .filter((e) => e.action === "deleted" && e.item !== undefined)
    .map((e) => Number(e.key))
    .sort((a, b) => a - b);

async function ids(raw: RawSql, table: string): Promise<number[]> {
  return (await raw.exec(`select id from ${table} order by id`)).map((r) => Number(r.id));
}

async function exists(raw: RawSql, table: string): Promise<boolean> {
  return (await raw.exec("select to_regclass($1) is not null as e", [table]))[0]?.e === true;
}

describe("partitions lethe does not drop whole", { timeout: 120_000 }, () => {
  it("a foreign-table partition (postgres_fdw) is row-deleted through the parent, never dropped", async (ctx) => {
    requireService(ctx, "pg");
    const remote = await database();
    await remote.raw.exec("create table remote_old (id int not null, user_id text, created_at timestamptz not null)");
    await remote.raw.exec("insert into remote_old select g, 'u' || g, '2000-06-01' from generate_series(1, 30) g");
    const { url, raw } = await database();
    const r = new URL(remote.url);
    await raw.exec("create extension postgres_fdw");
    await raw.exec(`create server arch foreign data wrapper postgres_fdw
      options (host '${r.hostname}', port '${r.port}', dbname '${r.pathname.slice(1)}')`);
    await raw.exec(`create user mapping for current_user server arch
      options (user '${decodeURIComponent(r.username)}'${r.password ? `, password '${decodeURIComponent(r.password)}'` : ""})`);
    await partitioned(raw, "server arch options (table_name 'remote_old')");
    await raw.exec("insert into p values (100, 'v', '2001-06-01'), (101, 'v', now())");
    const dir = project(url);
    const { code, result } = await apply(dir);
    expect(code).toBe(0);
    // The remote rows are gone (a dropped foreign table would have left all 30 behind, out of the dataset).
    expect(await ids(remote.raw, "remote_old")).toEqual([]);
    expect(await exists(raw, "p_old")).toBe(true);
    expect(await exists(raw, "p_old2")).toBe(false); // a local table beside it is still dropped whole
    expect(result).toMatchObject({ deleted: 31, failed: 0, partitionsDropped: 1 });
    const log = await entries(dir);
    expect(deletedKeys(log)).toEqual([...Array.from({ length: 30 }, (_, i) => i + 1), 100]);
    expect(log.filter((e) => e.action === "partition_dropped").map((e) => e.data?.partition)).toEqual([
      "public.p_old2",
    ]);
    expect(log.some((e) => e.action === "failed")).toBe(false);
  });

  it("a partitioned table a foreign key references is row-deleted, so ON DELETE CASCADE runs as the application expects", async (ctx) => {
    requireService(ctx, "pg");
    const { url, raw } = await database();
    await partitioned(raw);
    await raw.exec("insert into p values (1, 'u', '2000-06-01'), (2, 'u', '2001-06-01'), (3, 'u', now())");
    await raw.exec(`create table child (cid int primary key, pid int, pcreated timestamptz,
      foreign key (pid, pcreated) references p (id, created_at) on delete cascade)`);
    await raw.exec("insert into child values (10, 1, '2000-06-01'), (30, 3, (select created_at from p where id = 3))");
    const dir = project(url);
    const { code, stderr, result } = await apply(dir);
    expect(code, stderr).toBe(0);
    expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(await ids(raw, "p")).toEqual([3]);
    expect((await raw.exec("select cid from child")).map((x) => Number(x.cid))).toEqual([30]);
    expect(result).toMatchObject({ deleted: 2, failed: 0 });
    expect(result.partitionsDropped).toBeUndefined();
    expect(result.partitionsSkipped).toBeUndefined(); // never tried: found in the catalog before the detach
    expect(deletedKeys(await entries(dir))).toEqual([1, 2]);
  });

  it("does not wait behind the application's lock: DETACH gives up after the lock timeout and the rows go the row way", async (ctx) => {
    requireService(ctx, "pg");
    const { url, raw } = await database();
    await partitioned(raw);
    await raw.exec("insert into p values (1, 'u', '2000-06-01'), (2, 'u', '2001-06-01'), (3, 'u', now())");
    // A long read of the table: ACCESS SHARE on p and its partitions until it commits, after lethe's run.
    const reader = new pg.Client({ connectionString: url });
    await reader.connect();
    const dir = project(url);
    const { code, result } = await (async () => {
      try {
        await reader.query("begin");
        await reader.query("select count(*) from p");
        const applied = await apply(dir);
        await reader.query("commit");
        return applied;
      } finally {
        await reader.end();
      }
    })();
    expect(code).toBe(0);
    expect(await ids(raw, "p")).toEqual([3]);
    expect(await exists(raw, "p_old")).toBe(true);
    expect(result).toMatchObject({ deleted: 2, failed: 0 });
    expect(result.partitionsSkipped?.map((s) => s.partition)).toEqual(["public.p_old", "public.p_old2"]);
    expect(result.partitionsSkipped?.[0]?.reason).toMatch(
      /lock on the table for longer than 2 s; their rows were deleted row by row instead/,
    );
  });

  it("a detach or drop the database refuses is reported by its SQLSTATE alone (the database's words may quote a row) and finished by a later run", async (ctx) => {
    requireService(ctx, "pg");
    const { url, raw } = await database();
    await partitioned(raw);
    await raw.exec("insert into p values (1, 'u', '2000-06-01'), (2, 'u', '2001-06-01'), (3, 'u', now())");
    await raw.exec(`create function no_ddl() returns event_trigger language plpgsql as $$
      begin raise exception 'no DDL today, row of user-secret-42, ask ops@example.com'; end $$`);
    await raw.exec(
      "create event trigger no_alter on ddl_command_start when tag in ('ALTER TABLE') execute function no_ddl()",
    );
    const dir = project(url);
    let run = await apply(dir);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(await ids(raw, "p")).toEqual([3]);
    // A coded, stable reason: nothing of the trigger's message (a value, a key) reaches the result or the ledger.
    expect(run.result.partitionsSkipped?.map((s) => s.reason)).toEqual([
      "detaching partitions: PostgreSQL refused it (SQLSTATE P0001, raised by a trigger or function); their rows were deleted row by row instead",
      "detaching partitions: PostgreSQL refused it (SQLSTATE P0001, raised by a trigger or function); their rows were deleted row by row instead",
    ]);
    expect(JSON.stringify(run.result) + run.stderr).not.toMatch(/no DDL|user-secret-42|EMAIL|ops@/);

    // Detached, then the drop is refused: out of the table, dropped by the first run that can.
    await raw.exec("drop event trigger no_alter");
    await raw.exec(
      "create event trigger no_drop on ddl_command_start when tag in ('DROP TABLE') execute function no_ddl()",
    );
    await raw.exec("insert into p values (4, 'u', '2000-07-01')");
    run = await apply(dir);
    expect(run.code, run.stderr).toBe(0);
    expect(run.result.partitionsSkipped?.[0]?.reason).toMatch(/detached, to be dropped by the next run/);
    expect(await ids(raw, "p")).toEqual([3]);
    expect(await ids(raw, "p_old")).toEqual([4]); // detached, not yet dropped
    run = await apply(dir); // the start of the run finishes it again, refused again: the run goes on
    expect(run.code, run.stderr).toBe(0);
    await raw.exec("drop event trigger no_drop");
    run = await apply(dir);
    expect(run.code, run.stderr).toBe(0);
    expect(await exists(raw, "p_old")).toBe(false);
    const log = await entries(dir);
    expect(JSON.stringify(log)).not.toMatch(/no DDL|user-secret-42|EMAIL|ops@/);
    expect(JSON.stringify(log)).toMatch(/SQLSTATE P0001, raised by a trigger or function/);
    expect(deletedKeys(log)).toEqual([1, 2, 4]);
    expect(log.filter((e) => e.action === "partition_dropped").map((e) => e.data?.rows)).toEqual([1, 0]);
  });
});
