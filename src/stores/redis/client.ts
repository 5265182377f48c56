import { createClient, ErrorReply } from "redis";
import type { RedisStoreConfig } from "../../config/types.js";
import { LetheError } from "../../core/errors.js";

/**
 * Opening gives up after a few attempts (the store is then reported down);
 * once connected, the client keeps reconnecting with capped backoff, so a
 * Redis restart under `lethe serve` heals by itself while commands fail fast.
 */
const connect = (url: string, opened: { yes: boolean }) =>
  createClient({
    url,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: CONNECT_TIMEOUT_MS,
      reconnectStrategy: (retries: number) =>
        !opened.yes && retries >= MAX_CONNECT_ATTEMPTS ? false : Math.min(100 * 2 ** retries, MAX_BACKOFF_MS),
    },
  });
export type RedisClient = ReturnType<typeof connect>;

/** Milliseconds to wait for a connection; attempts when opening; the longest wait between reconnects. */
const CONNECT_TIMEOUT_MS = 5000;
const MAX_CONNECT_ATTEMPTS = 3;
const MAX_BACKOFF_MS = 5000;

/**
 * A connected client for a redis store. Commands fail fast while the server
 * is away (no offline queue: a delete must never be sent minutes later, after
 * its outcome was reconciled) and the client reconnects in the background. Requires Redis ≥ 7 (`PEXPIRE … LT`,
 * `PEXPIRETIME`). Errors never carry the URL (it may hold a password).
 *
 * @example
 * const client = await redisClient({ name: "cache", kind: "redis", url: "redis://127.0.0.1:6379/0" });
 */
export async function redisClient(config: RedisStoreConfig): Promise<RedisClient> {
  const opened = { yes: false };
  const client = connect(config.url, opened);
  // Without a listener an emitted 'error' would crash the process; failures surface on each command.
  client.on("error", () => undefined);
  try {
    await client.connect();
    const major = serverMajor(await client.info("server"));
    if (major !== undefined && major < 7)
      throw new LetheError(
        "CONFIG_INVALID",
        `stores.${config.name}.url: the server runs Redis ${major}; lethe needs Redis 7 or later (PEXPIRE LT, PEXPIRETIME)`,
      );
    opened.yes = true;
    return client;
  } catch (err) {
    client.destroy();
    if (err instanceof LetheError) throw err;
    if (err instanceof ErrorReply && /NOAUTH|WRONGPASS|NOPERM|DB index is out of range/.test(err.message))
      throw new LetheError("CONFIG_INVALID", `stores.${config.name}.url: ${redisReason(err)}`, undefined, {
        cause: err,
      });
    throw new LetheError("STORE_ERROR", `stores.${config.name}: cannot reach Redis: ${redisReason(err)}`, undefined, {
      cause: err,
    });
  }
}

function serverMajor(info: string): number | undefined {
  const m = /redis_version:(\d+)/.exec(info);
  return m ? Number(m[1]) : undefined;
}

/**
 * A Redis error as a reason fit for the ledger: the server's error code and
 * text with anything quoted (which may echo a key) cut out, or the socket
 * error's code.
 *
 * @example
 * redisReason(err); // "WRONGTYPE Operation against a key holding the wrong kind of value"
 */
export function redisReason(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown } | undefined;
  const msg = typeof e?.message === "string" ? e.message : String(err);
  const text = msg
    // A command name is no secret and says which grant is missing (NOPERM … to run the 'select' command).
    .replace(/'([A-Za-z|]{1,40})' command/g, (_, c: string) => `${c.toUpperCase()} command`)
    .replace(/'[^'\n]*'/g, "'…'")
    .replace(/"[^"\n]*"/g, '"…"')
    .replace(/rediss?:\/\/\S+/g, "redis://…")
    .slice(0, 200);
  return typeof e?.code === "string" && !text.includes(e.code) ? `${e.code}: ${text}` : text;
}

/** True when the server answered (with an error): the command's outcome is known. */
export function isServerReply(err: unknown): boolean {
  return err instanceof ErrorReply;
}
