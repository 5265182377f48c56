#!/usr/bin/env node
// Copies the dashboard's static files (HTML, JS, CSS) next to the compiled server, so the
// published package serves them from dist/ with no build step at runtime. Run by `npm run build`.
import { cpSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const from = join(root, "src", "server", "dashboard");
const to = join(root, "dist", "server", "dashboard");
mkdirSync(to, { recursive: true });
cpSync(from, to, { recursive: true });
