import type { FastifyInstance } from "fastify";
import { LetheError } from "../core/errors.js";
import { shapeProblem } from "./json-shape.js";

/**
 * The path of the first key that Fastify's JSON parser refuses as prototype
 * poisoning (`__proto__`, or `constructor` holding a `prototype`), e.g.
 * `artifacts.0.__proto__`; undefined when there is none.
 */
export function forbiddenKey(value: unknown, path: string[] = []): string | undefined {
  if (value === null || typeof value !== "object") return undefined;
  const own = (o: object, k: string) => Object.hasOwn(o, k);
  if (own(value, "__proto__")) return [...path, "__proto__"].join(".");
  const ctor = (value as Record<string, unknown>).constructor;
  if (own(value, "constructor") && ctor !== null && typeof ctor === "object" && own(ctor, "prototype"))
    return [...path, "constructor", "prototype"].join(".");
  for (const [k, v] of Object.entries(value)) {
    const found = forbiddenKey(v, [...path, k]);
    if (found) return found;
  }
  return undefined;
}

/**
 * Any other content type: an empty body (`curl -d ''` sends a form type) is no body; anything else is a 415.
 */
export function emptyBodyParser(app: FastifyInstance): void {
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_req, body, done) => {
    if ((body as Buffer).length === 0) return done(null, undefined);
    done(new LetheError("UNSUPPORTED_MEDIA_TYPE", "send the body as application/json"), undefined);
  });
}

/**
 * Fastify's JSON parser (prototype-poisoning keys are errors), with two
 * differences: a body nested too deep or with too long an array is refused
 * (400 `VALIDATION`) by a linear scan before anything is parsed, and a body
 * refused only for a poisoning key says so, instead of "not valid JSON".
 * Only the failure path parses the body a second time.
 */
export function jsonBodyParser(app: FastifyInstance, shape: { maxDepth: number; maxArray: number }): void {
  const strict = app.getDefaultJsonParser("error", "error");
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (req, body, done) => {
    // No body is no body (e.g. `POST /v1/runs` with nothing to say): the route's own validation decides.
    if (body === "") return done(null, undefined);
    const problem = shapeProblem(body as string, shape);
    if (problem) return done(new LetheError("VALIDATION", problem), undefined);
    strict(req, body as string, (err, parsed) => {
      if (!err) return done(null, parsed);
      let key: string | undefined;
      try {
        // JSON.parse defines "__proto__" as a plain own property: it pollutes nothing.
        key = forbiddenKey(JSON.parse(body as string));
      } catch {
        // really not JSON
      }
      done(key ? new LetheError("VALIDATION", `${key}: this key is not allowed in a request body`) : err, undefined);
    });
  });
}
