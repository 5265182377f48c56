import type { FastifyRequest } from "fastify";
import { LetheError } from "../core/errors.js";
import { allows } from "./scopes.js";
import type { TokenStore } from "./tokens.js";

const BEARER = /^Bearer[ \t]+([^\s]+)[ \t]*$/i;

/**
 * `onRequest` hook: a route with `config.scopes` needs `Authorization: Bearer
 * TOKEN` with one of them. No or an invalid token is 401; a valid token
 * without the scope is 403. Runs before the body is read, so a refused
 * request never has its body parsed, let alone stored.
 */
export function authHook(tokens: TokenStore) {
  return async (req: FastifyRequest): Promise<void> => {
    const need = req.routeOptions.config.scopes;
    if (!need) return;
    const header = req.headers.authorization;
    if (!header) throw new LetheError("UNAUTHORIZED", "missing token: send Authorization: Bearer TOKEN");
    const m = BEARER.exec(header);
    if (!m) throw new LetheError("UNAUTHORIZED", "malformed Authorization header: expected Bearer TOKEN");
    const token = await tokens.verify(m[1] as string);
    if (!token) throw new LetheError("UNAUTHORIZED", "invalid or revoked token");
    req.tokenId = token.id;
    if (!allows(token.scopes, need))
      throw new LetheError("FORBIDDEN", `this endpoint needs a token with scope ${need.join(" or ")} (or admin)`);
  };
}
