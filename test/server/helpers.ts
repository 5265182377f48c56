import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { type Lethe, openLethe } from "../../src/lethe.js";
import { type AppOptions, buildApp } from "../../src/server/app.js";
import type { Scope } from "../../src/server/scopes.js";
import type { Project } from "../helpers/project.js";

export const quiet = { warn: () => undefined, info: () => undefined };

export async function openProject(p: Project): Promise<Lethe> {
  return openLethe(join(p.dir, "lethe.yaml"), { logger: quiet, events: { autoRetry: false } });
}

export interface Harness {
  lethe: Lethe;
  app: FastifyInstance;
  tokens: Record<"read" | "admin" | "erasure" | "events", string>;
  logs: string[];
  close(): Promise<void>;
}

/** A real lethe on a real project, an app around it, and one token per scope. */
export async function harness(p: Project, opts: AppOptions = {}): Promise<Harness> {
  const lethe = await openProject(p);
  const logs: string[] = [];
  const line = (level: string) => (obj: object, msg: string) => logs.push(JSON.stringify({ level, ...obj, msg }));
  const app = await buildApp(lethe, { log: { info: line("info"), warn: line("warn"), error: line("error") }, ...opts });
  const make = async (s: Scope[]) => (await app.lethe.tokens.create(s)).token;
  const tokens = {
    read: await make(["read"]),
    admin: await make(["admin"]),
    erasure: await make(["erasure:write"]),
    events: await make(["events:write"]),
  };
  return {
    lethe,
    app,
    tokens,
    logs,
    async close() {
      await app.close();
      await lethe.close();
    },
  };
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/** Rows in the tables a refused request must not touch, and the ledger size. */
export async function footprint(lethe: Lethe): Promise<Record<string, number>> {
  const count = async (t: "holds" | "erasure_requests" | "events" | "runs") =>
    Number(
      (
        await lethe.state.db
          .selectFrom(t)
          .select((eb) => eb.fn.countAll<number>().as("n"))
          .executeTakeFirstOrThrow()
      ).n,
    );
  return {
    holds: await count("holds"),
    requests: await count("erasure_requests"),
    events: await count("events"),
    runs: await count("runs"),
    ledger: await lethe.ledger.size(),
  };
}

export { until } from "../helpers/wait.js";
