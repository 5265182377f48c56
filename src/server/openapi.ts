import { z } from "zod";
import { ERROR_CODES } from "../core/errors.js";
import { auditQuery, forecastQuery, holdBody, listQuery, planQuery, runBody, verifyQuery } from "./schemas.js";
import type { Scope } from "./scopes.js";

export interface EndpointDoc {
  method: "get" | "post" | "delete";
  path: string;
  summary: string;
  /** Scopes that may call it; absent: no token needed. */
  scopes?: Scope[];
  body?: z.ZodType;
  query?: z.ZodType;
  /** Success status and what it returns. */
  ok: [number, string];
}

function jsonSchema(s: z.ZodType): Record<string, unknown> {
  const { $schema: _drop, ...rest } = z.toJSONSchema(s, { io: "input", unrepresentable: "any" }) as Record<
    string,
    unknown
  >;
  return rest;
}

function queryParams(s: z.ZodType): Record<string, unknown>[] {
  const props = (jsonSchema(s).properties ?? {}) as Record<string, Record<string, unknown>>;
  return Object.entries(props).map(([name, schema]) => ({ name, in: "query", required: false, schema }));
}

/** The endpoints of `lethe serve` that do not depend on other modules' schemas. */
export const CORE_ENDPOINTS: EndpointDoc[] = [
  { method: "get", path: "/healthz", summary: "the process answers", ok: [200, '{"status":"ok"}'] },
  {
    method: "get",
    path: "/readyz",
    summary: "state reachable and not shutting down (503 otherwise)",
    ok: [200, '{"status":"ready"}'],
  },
  {
    method: "get",
    path: "/metrics",
    summary: "Prometheus metrics, names prefixed lethe_",
    scopes: ["read"],
    ok: [200, "text/plain"],
  },
  { method: "get", path: "/openapi.json", summary: "this document", scopes: ["read"], ok: [200, "OpenAPI 3.1"] },
  {
    method: "get",
    path: "/v1/plan",
    summary: "dry run, as `lethe plan --json`; a GET records nothing on the ledger",
    scopes: ["read"],
    query: planQuery,
    ok: [200, "plan"],
  },
  {
    method: "post",
    path: "/v1/plan",
    summary: "recorded dry run: as GET, and appends the plan's summary entry to the ledger (as `lethe plan`)",
    scopes: ["admin"],
    body: planQuery,
    ok: [200, "plan"],
  },
  {
    method: "post",
    path: "/v1/runs",
    summary: "start a retention run (as `lethe apply`)",
    scopes: ["admin"],
    body: runBody,
    ok: [202, '{"runId","status"}'],
  },
  {
    method: "get",
    path: "/v1/runs",
    summary: "recent runs",
    scopes: ["read"],
    query: listQuery,
    ok: [200, '{"runs":[…]}'],
  },
  {
    method: "get",
    path: "/v1/runs/{id}",
    summary: "one run",
    scopes: ["read"],
    ok: [200, '{"id","kind","startedAt","finishedAt","status","summary"}'],
  },
  {
    method: "get",
    path: "/v1/audit",
    summary: "ledger entries of a subject, item or run (as `audit log`)",
    scopes: ["read"],
    query: auditQuery,
    ok: [200, '{"entries":[…],"prunedBefore"?}'],
  },
  {
    method: "get",
    path: "/v1/audit/verify",
    summary:
      "verify the entries recorded since the last recorded verification (`?full=1`: all of them), in a worker thread; stores nothing",
    scopes: ["read"],
    query: verifyQuery,
    ok: [200, '{"ok","entries","full","from","read","firstBad"?,"reason"?,"uncovered"?}'],
  },
  {
    method: "post",
    path: "/v1/audit/verify",
    summary:
      "as GET, and records how far the ledger verified (the next run starts there) and the result for the dashboard",
    scopes: ["read"],
    query: verifyQuery,
    ok: [200, '{"ok","entries","full","from","read","firstBad"?,"reason"?,"uncovered"?}'],
  },
  {
    method: "get",
    path: "/v1/ledger",
    summary: "ledger size and the last verification",
    scopes: ["read"],
    ok: [200, '{"entries","verification"}'],
  },
  {
    method: "get",
    path: "/v1/janitor/alerts",
    summary: "recent janitor findings from the ledger",
    scopes: ["read"],
    query: listQuery,
    ok: [200, '{"alerts":[…]}'],
  },
  {
    method: "post",
    path: "/v1/holds",
    summary: "add a legal hold (as `hold add`)",
    scopes: ["admin"],
    body: holdBody,
    ok: [201, '{"id"}'],
  },
  {
    method: "get",
    path: "/v1/holds",
    summary: "active holds (as `hold list`)",
    scopes: ["read"],
    ok: [200, '{"holds":[…]}'],
  },
  {
    method: "delete",
    path: "/v1/holds/{id}",
    summary: "release a hold",
    scopes: ["admin"],
    ok: [200, '{"id","released":true}'],
  },
  {
    method: "get",
    path: "/v1/datasets",
    summary: "datasets with item counts, expired items, retention lag and next run",
    scopes: ["read"],
    ok: [200, '{"datasets":[…]}'],
  },
  {
    method: "get",
    path: "/v1/forecast",
    summary: "items expiring per UTC day",
    scopes: ["read"],
    query: forecastQuery,
    ok: [200, '{"days","total","datasets"}'],
  },
  {
    method: "get",
    path: "/v1/schedule",
    summary: "scheduler leader, next fire times, recent scheduled runs",
    scopes: ["read"],
    query: listQuery,
    ok: [200, '{"leader","jobs","claims"}'],
  },
];

const errorSchema = {
  type: "object",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["code", "message"],
      properties: { code: { type: "string", enum: Object.keys(ERROR_CODES) }, message: { type: "string" } },
    },
  },
};

/**
 * The OpenAPI 3.1 document served at `/openapi.json`, generated from the same
 * zod schemas that validate the requests.
 *
 * @example
 * const doc = openapiDocument([...CORE_ENDPOINTS], "0.1.0");
 */
export function openapiDocument(endpoints: EndpointDoc[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const e of endpoints) {
    const op: Record<string, unknown> = {
      summary: e.summary,
      ...(e.scopes ? { security: [{ bearer: e.scopes }], "x-scopes": e.scopes } : { security: [] }),
      ...(e.query ? { parameters: queryParams(e.query) } : {}),
      ...(e.body
        ? { requestBody: { required: true, content: { "application/json": { schema: jsonSchema(e.body) } } } }
        : {}),
      responses: {
        [String(e.ok[0])]: { description: e.ok[1] },
        default: {
          description: "error",
          content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
        },
      },
    };
    paths[e.path] = { ...(paths[e.path] ?? {}), [e.method]: op };
  }
  return {
    openapi: "3.1.0",
    info: { title: "lethe serve", version, description: "Retention, erasure and proof for sensitive AI data." },
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "lethe token create --scopes …" } },
      schemas: { Error: errorSchema },
    },
    paths,
  };
}
