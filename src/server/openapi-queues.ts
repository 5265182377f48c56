import { inferenceCompleteSchema } from "../transient/event-schema.js";
import type { EndpointDoc } from "./openapi.js";
import { erasureListQuery, erasureRequestBody } from "./schemas.js";

/** OpenAPI entries of the erasure-request and event endpoints. */
export const QUEUE_ENDPOINTS: EndpointDoc[] = [
  {
    method: "post",
    path: "/v1/erasure-requests",
    summary: "record an erasure request; processed within seconds",
    scopes: ["erasure:write"],
    body: erasureRequestBody,
    ok: [202, '{"id","status","receivedAt","dueAt","existing"?}'],
  },
  {
    method: "get",
    path: "/v1/erasure-requests",
    summary: "requests (as `requests list`)",
    scopes: ["read", "erasure:write"],
    query: erasureListQuery,
    ok: [200, '{"requests":[{"id","status","receivedAt","dueAt","overdue"}]}'],
  },
  {
    method: "get",
    path: "/v1/erasure-requests/{id}",
    summary: "one request (as `requests show`)",
    scopes: ["read", "erasure:write"],
    ok: [200, "request with datasets"],
  },
  {
    method: "get",
    path: "/v1/receipts/{requestId}",
    summary: "the signed erasure receipt, read only (409 until the request is answered and its receipt issued)",
    scopes: ["read", "erasure:write"],
    ok: [200, "signed receipt JSON"],
  },
  {
    method: "post",
    path: "/v1/receipts/{requestId}",
    summary: "issues the receipt of an answered request if a crash left it unissued (idempotent)",
    scopes: ["erasure:write"],
    ok: [200, "signed receipt JSON"],
  },
  {
    method: "post",
    path: "/v1/events/inference-complete",
    summary: "inference complete: 202 once durably stored; artifacts deleted at once in the background",
    scopes: ["events:write"],
    body: inferenceCompleteSchema,
    ok: [202, '{"id","status","duplicate","receivedAt"}'],
  },
];
