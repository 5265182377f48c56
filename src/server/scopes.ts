/**
 * API token scopes (DESIGN.md "HTTP API"). `admin` implies every other scope.
 *
 * @example
 * const { token } = await new TokenStore(state).create(["events:write"], "ci"); // scopes are among SCOPES
 */
export const SCOPES = ["read", "erasure:write", "events:write", "admin"] as const;
export type Scope = (typeof SCOPES)[number];

export function isScope(s: string): s is Scope {
  return (SCOPES as readonly string[]).includes(s);
}

/** True if a token with `granted` may call an endpoint that accepts any of `anyOf`. */
export function allows(granted: readonly Scope[], anyOf: readonly Scope[]): boolean {
  return granted.includes("admin") || anyOf.some((s) => granted.includes(s));
}
