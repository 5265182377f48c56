import type { FastifyInstance } from "fastify";
import { CORE_ENDPOINTS, type EndpointDoc, openapiDocument } from "../openapi.js";

/** `GET /openapi.json` (scope read). */
export function openapiRoutes(app: FastifyInstance, extra: EndpointDoc[] = []): void {
  const doc = openapiDocument([...CORE_ENDPOINTS, ...extra], "0.1.0");
  app.get("/openapi.json", { config: { scopes: ["read"] } }, async () => doc);
}
