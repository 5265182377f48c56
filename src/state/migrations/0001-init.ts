import { type Kysely, SqliteAdapter, sql } from "kysely";

/** Ledger, checkpoints, runs, intents, holds, secrets. */
export async function up(db: Kysely<unknown>): Promise<void> {
  // SQLite: INTEGER PRIMARY KEY is the rowid itself, sparing a second b-tree on every append.
  const seqType = db.getExecutor().adapter instanceof SqliteAdapter ? "integer" : "bigint";
  await db.schema
    .createTable("ledger")
    .addColumn("seq", seqType, (c) => c.primaryKey())
    .addColumn("at", "text", (c) => c.notNull())
    .addColumn("action", "text", (c) => c.notNull())
    .addColumn("dataset", "text")
    .addColumn("item_key", "text")
    .addColumn("key_hash", "text")
    .addColumn("subject_hash", "text")
    .addColumn("reason", "text")
    .addColumn("run_id", "text")
    .addColumn("data", "text")
    .addColumn("prev_hash", "text", (c) => c.notNull())
    .addColumn("hash", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("ledger_subject").on("ledger").column("subject_hash").execute();
  // One index answers "what happened to item K" for clear integer keys and hashed keys alike.
  await sql`create index ledger_item on ledger (dataset, (coalesce(item_key, key_hash)))`.execute(db);
  await db.schema
    .createTable("ledger_head")
    .addColumn("id", "integer", (c) => c.primaryKey())
    .addColumn("seq", "bigint", (c) => c.notNull())
    .addColumn("hash", "text", (c) => c.notNull())
    .addColumn("frontier", "text", (c) => c.notNull())
    .execute();
  await sql`insert into ledger_head (id, seq, hash, frontier) values (1, 0, ${"0".repeat(64)}, '[]')`.execute(db);
  await db.schema
    .createTable("checkpoints")
    .addColumn("size", "bigint", (c) => c.primaryKey())
    .addColumn("root", "text", (c) => c.notNull())
    .addColumn("at", "text", (c) => c.notNull())
    .addColumn("signature", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createTable("runs")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("started_at", "text", (c) => c.notNull())
    .addColumn("finished_at", "text")
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("summary", "text")
    .execute();
  await db.schema
    .createTable("intents")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("run_id", "text", (c) => c.notNull())
    .addColumn("dataset", "text", (c) => c.notNull())
    .addColumn("payload", "text", (c) => c.notNull())
    .addColumn("opened_at", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createTable("holds")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("subject_hash", "text")
    .addColumn("dataset", "text")
    .addColumn("reason", "text", (c) => c.notNull())
    .addColumn("until", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("released_at", "text")
    .execute();
  await db.schema
    .createTable("secrets")
    .addColumn("name", "text", (c) => c.primaryKey())
    .addColumn("value", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
}
