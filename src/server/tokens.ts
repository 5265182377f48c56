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
const DUMMY_HASH = Buffer.alloc(32);

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

/**
 * API tokens for `lethe serve`, kept in the state database as SHA-256 only.
 * Verification looks the row up by the token's id prefix and compares hashes
 * with `timingSafeEqual`; an unknown id is compared against a dummy hash so
 * both paths cost the same.
 *
 * @example
 * const { token } = await new TokenStore(state).create(["read"]);
 * await store.verify(token); // { id, scopes: ["read"] }
 */
export class TokenStore {
  // Short positive cache: a busy event endpoint should not hit the state for every request.
  private readonly cache = new Map<string, { hash: Buffer; scopes: Scope[]; until: number }>();

  constructor(
    private readonly state: StateHandle,
    private readonly cacheMs = 2000,
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
      timingSafeEqual(given, DUMMY_HASH);
      return undefined;
    }
    const id = m[1] as string;
    const now = Date.now();
    let entry = this.cache.get(id);
    if (!entry || entry.until < now) {
      const row = await this.state.db
        .selectFrom("api_tokens")
        .select(["hash", "scopes"])
        .where("id", "=", id)
        .where("revoked_at", "is", null)
        .executeTakeFirst();
      entry = row
        ? {
            hash: Buffer.from(row.hash, "hex"),
            scopes: row.scopes.split(",").filter(isScope),
            until: now + this.cacheMs,
          }
        : undefined;
      if (entry) this.cache.set(id, entry);
      else this.cache.delete(id);
    }
    const ok = timingSafeEqual(given, entry?.hash.length === 32 ? entry.hash : DUMMY_HASH) && entry !== undefined;
    return ok && entry ? { id, scopes: entry.scopes } : undefined;
  }
}
