import type { FastifyReply, FastifyRequest } from "fastify";
import type { Rate, RateClass } from "../config/server-limits.js";
import { errorBody } from "./http-errors.js";
import { httpStatus } from "./http-status.js";

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets per (class, API token): each token may make `perSecond`
 * requests of a class on average and `burst` at once. One client's flood
 * is answered 429 without slowing another token down. Buckets that have
 * refilled completely are forgotten, so memory follows active tokens only.
 *
 * @example
 * const limits = new RateLimiter({ events: { perSecond: 500, burst: 1000 }, ... });
 * limits.take("events", tokenId); // 0 = go, else seconds to wait
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private sweptAt = 0;

  constructor(
    private readonly rates: Record<RateClass, Rate>,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one request from the bucket: 0 when allowed, otherwise the whole seconds until one is. */
  take(cls: RateClass, client: string): number {
    const { perSecond, burst } = this.rates[cls];
    const now = this.now();
    this.sweep(now);
    const key = `${cls}\u0000${client}`;
    const b = this.buckets.get(key) ?? { tokens: burst, at: now };
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * perSecond);
    b.at = now;
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / perSecond));
  }

  private sweep(now: number): void {
    if (now - this.sweptAt < 60_000) return;
    this.sweptAt = now;
    for (const [key, b] of this.buckets) {
      const cls = key.slice(0, key.indexOf("\u0000")) as RateClass;
      const { perSecond, burst } = this.rates[cls];
      if (b.tokens + ((now - b.at) / 1000) * perSecond >= burst) this.buckets.delete(key);
    }
  }
}

/**
 * `onRequest` hook, registered after authentication: a route with
 * `config.rate` counts against the caller's token; beyond its rate the
 * answer is 429 `RATE_LIMITED` with `Retry-After`, before the body is read.
 */
export function rateLimitHook(limiter: RateLimiter, onLimited: (cls: RateClass) => void = () => undefined) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const cls = req.routeOptions.config.rate;
    if (!cls || req.tokenId === undefined) return;
    const wait = limiter.take(cls, req.tokenId);
    if (wait === 0) return;
    onLimited(cls);
    await reply
      .status(httpStatus("RATE_LIMITED"))
      .header("retry-after", String(wait))
      .send(errorBody("RATE_LIMITED", `too many ${cls} requests for this token; retry after ${wait} s`));
  };
}
