import type { KeyObject } from "node:crypto";
import { sql } from "kysely";
import { LetheError } from "../core/errors.js";
import { FastHmac } from "../crypto/fast-hmac.js";
import type { StateTx } from "../state/dialect.js";
import type { StateHandle } from "../state/open-state.js";
import type { LedgerItemsTable, LedgerTable } from "../state/schema.js";
import { groupItems } from "./batch-entries.js";
import { entryHash } from "./canonical.js";
import { signVerifiedCheckpoint } from "./checkpoint.js";
import { type ScrubContext, scrubFreeText } from "./free-text.js";
import { type HeadState, headMac, headMacMatches } from "./head-mac.js";
import { checkHolds, verifiedHolds, writeHoldsSeal } from "./holds-seal.js";
import { type IntentFields, intentMac, intentMacMatches, sealIntentsAfterMigration } from "./intent-mac.js";
import { deriveSaltKey, ItemBatch, tagOf } from "./items.js";
import { keyHeadAfterMigration } from "./key-head.js";
import { FrontierBuilder } from "./merkle.js";
import { type Checkpoint, publicKeyId, publicKeyPem, signBytes } from "./signing.js";
import { loadSigningKeys, SigningKeySet, signingKeyMac, signingKeyMacMatches } from "./signing-keys.js";
import type { EntryInput, ItemInput } from "./types.js";
import { markMac, markMacMatches, type VerifiedMark } from "./verified-mark.js";

/**
 * The append-only, hash-chained, signed audit ledger. Only the executor and
 * the lifecycle modules write to it; nothing here ever stores a raw subject
 * id or a non-integer item key, only their HMACs.
 *
 * @example
 * await ledger.append([{ action: "hold_added", subject: "user-42", reason: "litigation" }]);
 */
export class Ledger {
  private readonly subjectCache = new Map<string, string>();
  private readonly hmac: FastHmac;
  /** Keys the per-item salts of v2 batches (items.ts); derived from the subject HMAC key, so rotations keep it. */
  readonly saltKey: Buffer;
  /** Names this instance's signing key on what it signs ({@link publicKeyId}). */
  readonly signingKeyId: string;

  constructor(
    private readonly state: StateHandle,
    hmacKey: Buffer,
    private readonly signingKey: KeyObject,
    /** Derived from the master key (`deriveChainKey`); keys the ledger head. */
    private readonly chainKey: Buffer,
  ) {
    this.hmac = new FastHmac(hmacKey);
    this.saltKey = deriveSaltKey(hmacKey);
    this.signingKeyId = publicKeyId(this.publicKeyPem());
  }

  private subjectPatterns: readonly string[] = [];

  /** The configured subject patterns (`users/{subject}/**`) that free text is masked by, besides the detectors. */
  maskSubjectPatterns(patterns: readonly string[]): void {
    this.subjectPatterns = patterns;
  }

  /** Free text as it may be stored: see scrubFreeText; the configured subject patterns always apply. */
  scrubText(text: string, ctx: Omit<ScrubContext, "patterns"> = {}): string {
    return scrubFreeText(text, { ...ctx, patterns: this.subjectPatterns });
  }

  /**
   * An entry's reason as the ledger stores it: its own key and subject masked, personal data too. Every output
   * that shows a reason next to an item (a run's `failures`) passes it through here, so it says no more there.
   *
   * @example
   * ledger.itemReason("cannot delete subj5 owner a@b.example", { key: 5, subject: "subj5" }); // "cannot delete [SUBJECT] owner [EMAIL]"
   */
  itemReason(reason: string, item: { key?: string | number | undefined; subject?: string | null | undefined }): string {
    return this.scrubText(reason, { subjects: [item.subject], keys: [item.key] });
  }

  /** HMAC-SHA256(subject key, subject id), hex. */
  subjectHash(subject: string): string {
    let h = this.subjectCache.get(subject);
    if (h === undefined) {
      h = this.hmac.hex(`subject\0${subject}`);
      // Runs touch a bounded set of subjects; the cap keeps a huge run from growing it forever.
      if (this.subjectCache.size > 200_000) this.subjectCache.clear();
      this.subjectCache.set(subject, h);
    }
    return h;
  }

  keyHash(dataset: string, key: string | number): string {
    return this.hmac.hex(`key\0${dataset}\0${String(key)}`);
  }

  publicKeyPem(): string {
    return publicKeyPem(this.signingKey);
  }

  /** Ed25519 signature (base64) with the ledger key, for documents such as erasure receipts. */
  sign(message: Buffer): string {
    return signBytes(this.signingKey, message);
  }

  /**
   * Every signing key whose signatures verify: the authentic rows of
   * `signing_keys` (retired keys only up to their rotation), and this
   * instance's own key, which the master key vouches for.
   */
  async signingKeys(): Promise<SigningKeySet> {
    const keys = await loadSigningKeys(this.state.db, this.chainKey);
    if (!keys.some((k) => k.keyId === this.signingKeyId))
      keys.push({ keyId: this.signingKeyId, publicKey: this.publicKeyPem(), createdAt: "" });
    return new SigningKeySet(keys);
  }

  /** The MAC that makes a `signing_keys` row trusted (see signing-keys.ts); only the chain key's holder can make it. */
  signingKeyMac(row: { key_id: string; retired_at: string | null; retired_after: number | null }): string {
    return signingKeyMac(this.chainKey, row);
  }

  /** Records this instance's public key in `signing_keys` if it is not there yet (the first key of a state). */
  async registerSigningKey(): Promise<void> {
    const have = await this.state.db
      .selectFrom("signing_keys")
      .select("key_id")
      .where("key_id", "=", this.signingKeyId)
      .executeTakeFirst();
    if (have) return;
    const row = { key_id: this.signingKeyId, retired_at: null, retired_after: null };
    await this.state.db
      .insertInto("signing_keys")
      .values({
        ...row,
        public_key: this.publicKeyPem(),
        created_at: new Date().toISOString(),
        mac: this.signingKeyMac(row),
      })
      .onConflict((oc) => oc.column("key_id").doNothing())
      .execute();
  }

  /** Whether a head (as stored) carries this instance's chain key MAC. */
  headIsAuthentic(h: HeadState, mac: string | null): boolean {
    return headMacMatches(this.chainKey, h, mac);
  }

  /** HMAC of an intent under the chain key (see intent-mac.ts). */
  intentMac(row: IntentFields): string {
    return intentMac(this.chainKey, row);
  }

  intentIsAuthentic(row: IntentFields & { mac: string | null }): boolean {
    return intentMacMatches(this.chainKey, row);
  }

  /** HMAC of a verified mark under the chain key (see verified-mark.ts). */
  markMac(m: VerifiedMark): string {
    return markMac(this.chainKey, m);
  }

  markIsAuthentic(m: VerifiedMark, mac: string): boolean {
    return markMacMatches(this.chainKey, m, mac);
  }

  /** Keys an unkeyed head if this open applied the head-MAC migration (see keyHeadAfterMigration). */
  async keyHead(): Promise<void> {
    await keyHeadAfterMigration(this.state, () => this.chainKey);
    await sealIntentsAfterMigration(this.state, this.chainKey);
  }

  /** The unreleased holds, checked against their seal (AUDIT_FAILED when edited outside lethe; see holds-seal.ts). */
  verifiedHolds(): ReturnType<typeof verifiedHolds> {
    return verifiedHolds(this.state, this.chainKey);
  }

  /** Reseals the holds inside a hold change's transaction, after its ledger entry `seq`. */
  sealHolds(trx: StateTx, seq: number): Promise<void> {
    return writeHoldsSeal(trx, this.chainKey, seq);
  }

  /** The seal check inside a hold change's transaction, before it changes anything. */
  async checkHolds(trx: StateTx, below: number): Promise<void> {
    await checkHolds(trx, this.chainKey, below);
  }

  /** Appends in a transaction of its own. */
  async append(entries: EntryInput[]): Promise<{ first: number; last: number }> {
    return this.state.db.transaction().execute((trx) => this.appendInTx(trx, entries));
  }

  /**
   * Appends inside the caller's transaction, so entries commit together with
   * whatever else it does. Must be the transaction's first statement: taking
   * the head row first is what serializes writers (SQLite and PostgreSQL).
   */
  async appendInTx(trx: StateTx, entries: EntryInput[]): Promise<{ first: number; last: number }> {
    const head = await sql<{ seq: number; hash: string; frontier: string; mac: string | null; keyed_from: number }>`
      update ledger_head set seq = seq where id = 1 returning seq, hash, frontier, mac, keyed_from`.execute(trx);
    const h = head.rows[0];
    if (!h)
      throw new LetheError(
        "AUDIT_FAILED",
        "lethe's state was damaged or tampered with: the ledger head is missing; refusing to append (restore the state from a backup, then run lethe audit verify --full)",
      );
    const keyedFrom = Number(h.keyed_from);
    // Extending a head lethe did not write would bless whatever was put before it.
    if (!this.headIsAuthentic({ seq: Number(h.seq), hash: h.hash, frontier: h.frontier, keyedFrom }, h.mac))
      throw new LetheError(
        "AUDIT_FAILED",
        "the ledger head is not authentic (its MAC does not match): refusing to append (a process started before a master-key rotation must be restarted)",
      );
    // Rows past the head belong to no entry lethe wrote: appending over them would fail half-way (a bare
    // constraint error) or adopt them. Both probes are primary-key range reads.
    for (const table of ["ledger", "ledger_items"] as const) {
      const planted = await trx.selectFrom(table).select("seq").where("seq", ">", h.seq).limit(1).executeTakeFirst();
      if (planted)
        throw new LetheError(
          "AUDIT_FAILED",
          `${table === "ledger" ? "ledger entries" : "item rows"} were planted beyond the ledger head (at entry ${planted.seq}, the head is ${h.seq}): refusing to append (run lethe audit verify --full)`,
        );
    }
    let seq = Number(h.seq);
    let prev = h.hash;
    const frontier = new FrontierBuilder(JSON.parse(h.frontier) as string[], seq);
    const at = new Date().toISOString();
    const rows: LedgerTable[] = [];
    const items: LedgerItemsTable[] = [];
    const grouped = groupItems(entries);
    for (const e of grouped) {
      const isIntKey = typeof e.key === "number" && Number.isSafeInteger(e.key);
      const data = e.items
        ? { items: e.items.length, root: this.itemRows(seq + 1, e.dataset ?? "", e.items, items), ...e.data }
        : e.data;
      const base = {
        seq: seq + 1,
        at,
        action: e.action,
        dataset: e.dataset ?? null,
        item_key: e.key !== undefined && isIntKey ? String(e.key) : null,
        key_hash: e.key !== undefined && !isIntKey ? this.keyHash(e.dataset ?? "", e.key) : null,
        subject_hash: e.subjectHash ?? (e.subject ? this.subjectHash(e.subject) : null),
        // A reason never carries its own entry's key or subject in clear, whatever produced it.
        reason: e.reason === undefined ? null : this.itemReason(e.reason, e),
        run_id: e.runId ?? null,
        data: data ? JSON.stringify(data) : null,
      };
      const hash = entryHash(prev, base);
      frontier.add(hash);
      rows.push({ ...base, prev_hash: prev, hash });
      prev = hash;
      seq += 1;
    }
    await this.state.dialect.insertLedgerRows(trx, rows);
    if (items.length > 0) await this.state.dialect.insertLedgerItems(trx, items);
    const next = { seq, hash: prev, frontier: JSON.stringify(frontier.toHex()), keyedFrom };
    await trx
      .updateTable("ledger_head")
      .set({ seq, hash: prev, frontier: next.frontier, mac: headMac(this.chainKey, next) })
      .where("id", "=", 1)
      .execute();
    return { first: seq - grouped.length + 1, last: seq };
  }

  /** Tags a batch's items into `out` (its `ledger_items` rows) and returns the batch's Merkle root. */
  private itemRows(seq: number, dataset: string, input: ItemInput[], out: LedgerItemsTable[]): string {
    const batch = new ItemBatch(this.saltKey, seq);
    for (const it of input) {
      const intKey = typeof it.key === "number" && Number.isSafeInteger(it.key);
      const sh = it.subjectHash ?? (it.subject ? this.subjectHash(it.subject) : undefined);
      const r = {
        itemKey: intKey ? (it.key as number) : null,
        keyTag: intKey ? null : tagOf(this.keyHash(dataset, it.key)),
        subjectTag: sh ? tagOf(sh) : null,
      };
      out.push({ seq, idx: batch.size, item_key: r.itemKey, key_tag: r.keyTag, subject_tag: r.subjectTag });
      batch.add(r);
    }
    return batch.root();
  }

  /**
   * Verifies the entries since the last verified mark, then signs that tree
   * head and stores it (see signVerifiedCheckpoint); returns the checkpoint.
   */
  checkpoint(): Promise<Checkpoint> {
    return signVerifiedCheckpoint(this.state, this);
  }

  /**
   * A process started before `lethe keys rotate-signing` still holds the old
   * key: what it signed now would not verify, so it stops and says why.
   */
  async refuseIfRetired(): Promise<void> {
    const own = await this.state.db
      .selectFrom("signing_keys")
      .select(["key_id", "retired_at", "retired_after", "mac"])
      .where("key_id", "=", this.signingKeyId)
      .executeTakeFirst();
    if (!own?.retired_at) return;
    // Only a rotation made with the chain key retires a key; a retirement written into the state by hand
    // is tampering, and restarting (what CONFLICT advises) would not help.
    if (!signingKeyMacMatches(this.chainKey, own))
      throw new LetheError(
        "AUDIT_FAILED",
        `the record of this process's ledger signing key (${this.signingKeyId.slice(0, 16)}…) says it was retired, but it is not authentic (its MAC does not match): refusing to sign (a process started before a master-key rotation must be restarted)`,
      );
    throw new LetheError(
      "CONFLICT",
      `this process's ledger signing key (${this.signingKeyId.slice(0, 16)}…) was retired by a key rotation at ${own.retired_at}: restart it to load the new key`,
    );
  }

  async size(): Promise<number> {
    const head = await this.state.db
      .selectFrom("ledger_head")
      .select("seq")
      .where("id", "=", 1)
      .executeTakeFirstOrThrow();
    return Number(head.seq);
  }
}
