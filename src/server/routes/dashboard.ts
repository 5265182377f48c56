import { readFileSync } from "node:fs";
import type { FastifyInstance, FastifyReply } from "fastify";
import { packageFile } from "../../core/package-file.js";

const ASSETS = {
  "index.html": "text/html; charset=utf-8",
  "app.js": "text/javascript; charset=utf-8",
  "style.css": "text/css; charset=utf-8",
} as const;

// No inline script or style anywhere, so the policy can forbid both.
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/**
 * The dashboard's files, shipped in the package (copied to dist by the build).
 *
 * @example
 * readFileSync(join(dashboardDir(), "index.html"));
 */
export function dashboardDir(): string {
  return packageFile("server/dashboard/");
}

/**
 * The dashboard at `/`: static HTML, JS and CSS read once at start-up, no
 * build step at runtime. The page holds no data; it asks the API with the
 * token the user logs in with, so serving it needs no token.
 */
export function dashboardRoutes(app: FastifyInstance): void {
  const dir = dashboardDir();
  const files = new Map(
    Object.entries(ASSETS).map(([name, type]) => [name, { body: readFileSync(`${dir}${name}`), type }] as const),
  );
  const send = (name: keyof typeof ASSETS) => async (_req: unknown, reply: FastifyReply) => {
    const f = files.get(name);
    return reply
      .type(f?.type ?? "text/plain")
      .header("cache-control", "no-cache")
      .header("content-security-policy", CSP)
      .header("x-content-type-options", "nosniff")
      .header("referrer-policy", "no-referrer")
      .send(f?.body);
  };
  app.get("/", send("index.html"));
  app.get("/dashboard/app.js", send("app.js"));
  app.get("/dashboard/style.css", send("style.css"));
  // The page declares an empty icon; this answers clients that ask anyway, without a 404.
  app.get("/favicon.ico", async (_req, reply) => reply.status(204).header("cache-control", "max-age=86400").send());
}
