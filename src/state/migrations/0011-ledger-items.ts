import { type Kysely, SqliteAdapter, sql } from "kysely";

/**
 * Ledger v2: a batch of deleted items is one ledger entry committing to its
 * items through a Merkle root (src/ledger/items.ts); each item keeps one
 * compact row here for lookups and proofs: the batch entry's seq, the item's
 * index in it, an integer key in clear or an 8-byte key tag, and an 8-byte
 * subject tag. Older entries stay as they are and verify as before.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const sqlite = db.getExecutor().adapter instanceof SqliteAdapter;
  const bytes = sqlite ? "blob" : "bytea";
  await db.schema
    .createTable("ledger_items")
    .addColumn("seq", sqlite ? "integer" : "bigint", (c) => c.notNull())
    .addColumn("idx", "integer", (c) => c.notNull())
    .addColumn("item_key", sqlite ? "integer" : "bigint")
    .addColumn("key_tag", bytes)
    .addColumn("subject_tag", bytes)
    .addPrimaryKeyConstraint("ledger_items_pk", ["seq", "idx"])
    // The primary key is the row: no hidden rowid beside it.
    .$call((b) => (sqlite ? b.modifyEnd(sql`without rowid`) : b))
    .execute();
  await sql`create index ledger_items_key on ledger_items (item_key) where item_key is not null`.execute(db);
  await sql`create index ledger_items_key_tag on ledger_items (key_tag) where key_tag is not null`.execute(db);
  await sql`create index ledger_items_subject on ledger_items (subject_tag) where subject_tag is not null`.execute(db);
}
