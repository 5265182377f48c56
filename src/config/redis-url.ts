/**
 * Whether a text is a Redis URL lethe can open: `redis://` or `rediss://`, host, optional port, user and
 * password, and at most a database number as its path (`/0`, `/3`). Anything else (`/abc`, `/0/x`, a query)
 * would otherwise only fail when the store is opened, as if the server were down. Checked on a literal
 * `url` by the schema and on a resolved `env:`/`file:` reference when the store is opened.
 *
 * @example
 * isRedisUrl("redis://:pw@127.0.0.1:6379/2"); // true
 * isRedisUrl("redis://127.0.0.1:6379/cache"); // false
 */
export function isRedisUrl(text: string): boolean {
  if (!/^rediss?:\/\/./.test(text) || !URL.canParse(text)) return false;
  const u = new URL(text);
  return u.hostname !== "" && /^(\/\d{0,9})?$/.test(u.pathname) && u.search === "" && u.hash === "";
}

export const REDIS_URL_MSG =
  "expected redis://…, rediss://… (TLS) or a secret reference (env:NAME, file:PATH): redis://[user:password@]host[:port][/db], db a number";
