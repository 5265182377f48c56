// `npm run bench`: runs every benchmark module and writes bench/RESULTS.md.
// Each module exports run() → a markdown section. BENCH_ONLY=retention,erasure runs a subset.
import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { ROOT } from "./lib.mjs";

const MODULES = ["retention", "erasure", "transient", "s3", "serve", "redact", "partitions", "mysql", "verify"];
const only = process.env.BENCH_ONLY?.split(",");
const sections = [];
for (const name of MODULES) {
  if (only && !only.includes(name)) continue;
  const file = join(ROOT, "bench", `${name}-bench.mjs`);
  if (!existsSync(file)) continue;
  process.stderr.write(`bench: ${name}…\n`);
  const t0 = Date.now();
  try {
    const mod = await import(file);
    sections.push(await mod.run());
  } catch (err) {
    sections.push(`## ${name}\n\nFAILED: ${err instanceof Error ? err.message : String(err)}\n`);
  }
  process.stderr.write(`bench: ${name} done in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
}
const header = `# Benchmark results

Command: \`npm run bench\` (builds, then \`node scripts/with-services.mjs node bench/run.mjs\`; PostgreSQL and s3rver
are started on loopback by the harness). Ratios compare lethe with a reference measured in the same run on identical
data, because this machine is shared and noisy: read the ratios, not the absolute seconds.

Run at ${new Date().toISOString()} on ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, Node ${process.version}.
`;
const body = `${header}\n${sections.join("\n")}`;
if (!only) {
  const file = join(ROOT, "bench", "RESULTS.md");
  writeFileSync(file, body);
  // Biome formats Markdown too; keep the committed file lint-clean for CI.
  spawnSync(join(ROOT, "node_modules", ".bin", "biome"), ["format", "--write", file], { cwd: ROOT, stdio: "ignore" });
}
process.stdout.write(body);
