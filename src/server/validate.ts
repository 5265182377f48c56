import type { z } from "zod";
import { LetheError } from "../core/errors.js";

function path(p: readonly PropertyKey[]): string {
  return p.length === 0 ? "(body)" : p.map(String).join(".");
}

/**
 * Validates a request body, query or params with a zod schema (strict
 * objects: unknown fields are errors). Every problem is named by its path;
 * the first one found is enough to refuse, all are reported.
 *
 * @example
 * const body = parseInput(holdBody, req.body, "body");
 */
export function parseInput<S extends z.ZodType>(
  schema: S,
  input: unknown,
  where: "body" | "query" | "path",
): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => `${where === "body" ? "" : `${where}.`}${path(i.path)}: ${i.message}`);
  throw new LetheError("VALIDATION", issues.join("; "), { issues });
}
