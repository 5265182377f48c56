import { RESP_TYPES } from "redis";
import type { RedisClient } from "./client.js";
import { keyBytes, keyName } from "./key-bytes.js";

/**
 * SCAN's COUNT hint: how much of the keyspace one call walks. Each call is
 * bounded by it, so the server is never blocked by a full scan (never KEYS).
 */
export const SCAN_COUNT = 1000;

/** Keys per script call: each script runs atomically on the server, so it stays short. */
export const CALL_KEYS = 1000;

/**
 * The names (key-bytes.ts) of the keys matching a SCAN MATCH pattern, page by page (`SCAN cursor MATCH p
 * COUNT n` until the cursor is back at 0). A key written or deleted during
 * the walk may or may not be seen; a key may be returned twice while the
 * server rehashes (deletes are idempotent, counts then approximate).
 *
 * @example
 * for await (const keys of scanKeys(client, "cache:prompt:*")) console.log(keys.length);
 */
export async function* scanKeys(client: RedisClient, match: string, count = SCAN_COUNT): AsyncGenerator<string[]> {
  // Keys as bytes: read as text, a key that is not UTF-8 would come back under a name no command finds.
  const bytes = client.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
  let cursor = "0";
  do {
    const r = await bytes.scan(cursor, { MATCH: match, COUNT: count });
    cursor = String(r.cursor);
    if (r.keys.length > 0) yield r.keys.map((k) => keyName(Buffer.from(k)));
  } while (cursor !== "0");
}

const PTTLS = `local r = {}
for i, k in ipairs(KEYS) do r[i] = redis.call('PTTL', k) end
return r`;

/** UNLINK each key; with ARGV[1] >= 0 only keys whose TTL is missing or longer than ARGV[1] ms. */
const UNLINK_IF = `local limit = tonumber(ARGV[1])
local r = {}
for i, k in ipairs(KEYS) do
  local t = redis.call('PTTL', k)
  if t == -2 then r[i] = 0
  elseif limit >= 0 and t ~= -1 and t <= limit then r[i] = -1
  else r[i] = redis.call('UNLINK', k) end
end
return r`;

/** PEXPIRE … LT (never lengthens; a key without TTL counts as infinite): the new PEXPIRETIME, or 0 when unchanged. */
const EXPIRE_LT = `local r = {}
for i, k in ipairs(KEYS) do
  if redis.call('PEXPIRE', k, ARGV[1], 'LT') == 1 then r[i] = redis.call('PEXPIRETIME', k) else r[i] = 0 end
end
return r`;

/** Runs a per-key script over keys given by name, sent as their exact bytes. */
async function perKey(client: RedisClient, script: string, keys: string[], args: string[] = []): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < keys.length; i += CALL_KEYS) {
    const chunk = keys.slice(i, i + CALL_KEYS).map(keyBytes);
    const r = (await client.eval(script, { keys: chunk, arguments: args })) as unknown[];
    out.push(...r.map(Number));
  }
  return out;
}

/**
 * Each key's remaining lifetime in ms: -1 no TTL, -2 no such key.
 *
 * @example
 * await lifetimes(client, ["a", "b"]); // [-1, 86399512]
 */
export function lifetimes(client: RedisClient, keys: string[]): Promise<number[]> {
  return perKey(client, PTTLS, keys);
}

/**
 * UNLINKs keys, one answer per key: 1 removed, 0 already gone, -1 left alone
 * because (with `limitMs`) its TTL no longer exceeds the limit. The check and
 * the removal happen in one atomic script, so a key given a short TTL since
 * the scan is not deleted by retention.
 */
export function unlinkKeys(client: RedisClient, keys: string[], limitMs?: number): Promise<number[]> {
  return perKey(client, UNLINK_IF, keys, [String(limitMs ?? -1)]);
}

/** Sets or lowers each key's TTL to `ms`; one answer per key: its new expiry (epoch ms), or 0 when unchanged. */
export function expireKeys(client: RedisClient, keys: string[], ms: number): Promise<number[]> {
  return perKey(client, EXPIRE_LT, keys, [String(ms)]);
}
