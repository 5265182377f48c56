import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { LetheError } from "../core/errors.js";
import type { StateHandle } from "../state/open-state.js";
import { isScope, SCOPES, type Scope } from "./scopes.js";

export interface CreatedToken {
  id: string;
  /** The bearer token itself: shown once, never stored. */
  token: string;
  scopes: Scope[];
}

export interface TokenInfo {
  id: string;
  scopes: Scope[];
  label?: string;
  createdAt: string;
  revokedAt?: string;
  lastUsedAt?: string;
}

// `lethe_<12 hex id>_<43 base64url secret>`: the id finds the row, the whole token is hashed.
const TOKEN_RE = /^lethe_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;
// Random per process, so no presented token can hash to it.
const DUMMY_HASH = randomBytes(32);

function sha256(s: string): Buffer {
  return createHash("sha256").update(s).digest();
}

/** Parses `--scopes read,events:write`; an unknown scope is a usage error. */
export function parseScopes(input: string): Scope[] {
  const parts = input
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = parts.filter((s) => !isScope(s));
  if (parts.length === 0 || bad.length > 0)
    throw new LetheError(
      "USAGE",
      `--scopes: expected a comma-separated list of ${SCOPES.join(", ")}${bad.length ? ` (unknown: ${bad.join(", ")})` : ""}`,
    );
  return [...new Set(parts as Scope[])];
}

/** Compares two SHA-256 digests in constant time; injectable so a test can count that every path calls it. */
export type HashCompare = (given: Buffer, stored: Buffer) => boolean;

// Bounds the cache an attacker fills by probing ids: past it, the oldest entries go first.
const MAX_CACHED = 10_000;

interface CachedToken {
  hash: Buffer;
  scopes: Scope[];
  known: boolean;
  until: number;
}

/**
 * API tokens for `lethe serve`, kept in the state database as SHA-256 only.
 * Verification looks the row up by the token's id prefix and compares hashes
 * with `timingSafeEqual`. An unknown id takes the same path as a known id
 * with a wrong secret: its (negative) lookup is cached the same way and the
 * presented hash is compared against a dummy record, so response time does
 * not tell whether an id exists.
 *
 * @example
 * const { token } = await new TokenStore(state).create(["read"]);
 * await store.verify(token); // { id, scopes: ["read"] }
 */
export class TokenStore {
  // Short cache of lookups, positive and negative alike: a busy event endpoint should not hit the state
  // for every request, and an unknown id must not cost a state round trip that a known one does not.
  private readonly cache = new Map<string, CachedToken>();

  constructor(
    private readonly state: StateHandle,
    private readonly cacheMs = 2000,
    private readonly compare: HashCompare = timingSafeEqual,
  ) {}
  async create(scopes: Scope[], label?: string): Promise<CreatedToken> {
    if (scopes.length === 0) throw new LetheError("USAGE", "a token needs at least one scope");
    const id = randomBytes(6).toString("hex");
    const token = `lethe_${id}_${randomBytes(32).toString("base64url")}`;
    await this.state.db
      .insertInto("api_tokens")
      .values({
        id,
        hash: sha256(token).toString("hex"),
        scopes: scopes.join(","),
        label: label ?? null,
        created_at: new Date().toISOString(),
        revoked_at: null,
        last_used_at: null,
      })
      .execute();
    return { id, token, scopes };
  }

  async list(): Promise<TokenInfo[]> {
    const rows = await this.state.db.selectFrom("api_tokens").selectAll().orderBy("created_at").execute();
    return rows.map((r) => ({
      id: r.id,
      scopes: r.scopes.split(",").filter(isScope),
      createdAt: r.created_at,
      ...(r.label ? { label: r.label } : {}),
      ...(r.revoked_at ? { revokedAt: r.revoked_at } : {}),
      ...(r.last_used_at ? { lastUsedAt: r.last_used_at } : {}),
    }));
  }

  async revoke(id: string): Promise<void> {
    const r = await this.state.db
      .updateTable("api_tokens")
      .set({ revoked_at: new Date().toISOString() })
      .where("id", "=", id)
      .where("revoked_at", "is", null)
      .executeTakeFirst();
    this.cache.delete(id);
    if (Number(r.numUpdatedRows) !== 1) throw new LetheError("NOT_FOUND", `no active token with id ${id}`);
  }

  /** The token's id and scopes if it is valid and not revoked; undefined otherwise. */
  async verify(presented: string): Promise<{ id: string; scopes: Scope[] } | undefined> {
    const m = TOKEN_RE.exec(presented);
    const given = sha256(presented);
    if (!m) {
      this.compare(given, DUMMY_HASH);
      return undefined;
    }
    const id = m[1] as string;
    const entry = await this.lookup(id);
    // Same compare for every id: a missing or malformed record is a dummy record that never matches.
    const ok = this.compare(given, entry.hash);
    return ok && entry.known ? { id, scopes: entry.scopes } : undefined;
  }

  private async lookup(id: string): Promise<CachedToken> {
    const now = Date.now();
    const cached = this.cache.get(id);
    if (cached && cached.until >= now) return cached;
    const row = await this.state.db
      .selectFrom("api_tokens")
      .select(["hash", "scopes"])
      .where("id", "=", id)
      .where("revoked_at", "is", null)
      .executeTakeFirst();
    const hash = row ? Buffer.from(row.hash, "hex") : undefined;
    const entry: CachedToken =
      row && hash?.length === 32
        ? { hash, scopes: row.scopes.split(",").filter(isScope), known: true, until: now + this.cacheMs }
        : { hash: DUMMY_HASH, scopes: [], known: false, until: now + this.cacheMs };
    this.cache.delete(id);
    if (this.cache.size >= MAX_CACHED) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(id, entry);
    return entry;
  }
}
