import type { FastifyInstance } from "fastify";
import type { ServerContext } from "../context.js";
import { forecastQuery, listQuery } from "../schemas.js";
import { parseInput } from "../validate.js";

/** Dashboard data: datasets with counts, lag and next run; the expiry forecast; the schedule. */
export function datasetRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const { lethe } = ctx;

  app.get("/v1/datasets", { config: { scopes: ["read"], rate: "reads" } }, async () => {
    const next = new Map((ctx.scheduler?.nextFireTimes() ?? []).map((j) => [j.job, j.next]));
    const stats = await ctx.stats.get();
    return {
      at: new Date().toISOString(),
      datasets: stats.map((d) => ({ ...d, nextRun: next.get(`retention:${d.name}`)?.toISOString() ?? null })),
    };
  });

  app.get("/v1/forecast", { config: { scopes: ["read"], rate: "reads" } }, async (req) => {
    const { days } = parseInput(forecastQuery, req.query, "query");
    const now = new Date();
    const midnight = Math.floor(now.getTime() / 86_400_000) * 86_400_000;
    const dates = Array.from({ length: days }, (_, i) =>
      new Date(midnight + i * 86_400_000).toISOString().slice(0, 10),
    );
    const datasets: { name: string; counts: number[] | null }[] = [];
    for (const ds of lethe.map.datasets.values())
      datasets.push({ name: ds.config.name, counts: ds.expiryHistogram ? await ds.expiryHistogram(now, days) : null });
    const total = dates.map((_, i) => datasets.reduce((n, d) => n + (d.counts?.[i] ?? 0), 0));
    return { at: now.toISOString(), days: dates, total, datasets };
  });

  app.get("/v1/schedule", { config: { scopes: ["read"] } }, async (req) => {
    const { limit } = parseInput(listQuery, req.query, "query");
    const s = ctx.scheduler;
    const lease = s ? await s.lease.read() : undefined;
    return {
      instance: s?.lease.opts.holder ?? null,
      leader: lease && lease.expiresAt.getTime() > Date.now() ? { instance: lease.holder, epoch: lease.epoch } : null,
      jobs: (s?.nextFireTimes() ?? []).map((j) => ({
        job: j.job,
        schedule: j.schedule,
        next: j.next?.toISOString() ?? null,
      })),
      claims: s ? (await s.claims.recent(limit)).map((c) => ({ ...c, fireTime: c.fireTime.toISOString() })) : [],
    };
  });
}
