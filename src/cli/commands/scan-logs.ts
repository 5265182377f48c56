import { existsSync } from "node:fs";
import { lstat } from "node:fs/promises";
import type { Command } from "commander";
import { issuePath, readConfigDocument } from "../../config/load.js";
import { redactRules } from "../../config/rules.js";
import { redactSchema } from "../../config/schema.js";
import { ConfigError, LetheError } from "../../core/errors.js";
import { type ScanLogsResult, scanLogs } from "../../redact/scan-logs.js";
import type { CustomPattern } from "../../redact/types.js";
import { plain } from "../format.js";
import type { Runner } from "../program.js";
import type { GlobalOptions } from "../result.js";

export interface ScanLogsCommandOptions {
  json?: boolean;
  /** Write `<name>.redacted` beside each file with findings. */
  redact?: boolean;
  /** Replace files with findings by their redacted version, shredding the old bytes. */
  inPlace?: boolean;
  /** `config.redact.patterns`. */
  patterns?: CustomPattern[];
  /** `config.redact.keys`. */
  keys?: string[];
}

const SHOWN = 200;

/**
 * `lethe scan-logs PATH…`: exit 1 when anything was found (or a file could
 * not be read), 0 when all is clean. Every path is checked before any file
 * is touched, so a typo fails with exit 2 and no half-done `--in-place`.
 *
 * @example
 * const r = await scanLogsCommand(["/var/log/app"], { json: true });
 * // r.json: { findings: [{ file, line, type, excerpt }], counts: { email: 2 } }
 */
export async function scanLogsCommand(
  paths: string[],
  opts: ScanLogsCommandOptions,
): Promise<{ exitCode: number; json: unknown; text: string }> {
  if (paths.length === 0) throw new LetheError("USAGE", "scan-logs needs at least one PATH");
  for (const p of paths) {
    try {
      await lstat(p);
    } catch {
      throw new LetheError("NOT_FOUND", `${p}: no such file or directory`);
    }
  }
  const res = await scanLogs(paths, {
    redact: opts.redact === true || opts.inPlace === true,
    inPlace: opts.inPlace === true,
    patterns: opts.patterns,
    keys: opts.keys,
  });
  const failed = res.files.some((f) => f.error !== undefined);
  const found = res.findings.length > 0 || Object.keys(res.counts).length > 0;
  const json = {
    findings: res.findings.map((f) => ({ file: f.file, line: f.line, type: f.type, excerpt: f.excerpt })),
    counts: res.counts,
    // Added fields: findings cut at the cap, files not scanned, files that failed (partly scanned).
    truncated: res.truncated,
    scanned: res.files.filter((f) => !f.skipped).length,
    skipped: res.files.filter((f) => f.skipped).map((f) => ({ file: f.file, reason: f.skipped })),
    errors: res.files.filter((f) => f.error).map((f) => ({ file: f.file, reason: f.error })),
  };
  return { exitCode: found || failed ? 1 : 0, json, text: render(res, opts) };
}

function render(res: ScanLogsResult, opts: ScanLogsCommandOptions): string {
  const lines: string[] = [];
  for (const f of res.findings.slice(0, SHOWN))
    lines.push(`${plain(f.file)}:${f.line}  ${f.type}  ${plain(f.excerpt)}`);
  const total = Object.values(res.counts).reduce((a, b) => a + b, 0);
  if (total > SHOWN) lines.push(`… and ${total - Math.min(SHOWN, res.findings.length)} more (use --json for the list)`);
  if (res.truncated) lines.push(`(the list keeps the first ${res.findings.length} findings; the counts cover all)`);
  for (const f of res.files) {
    if (f.skipped) lines.push(`skipped ${plain(f.file)}: ${f.skipped}`);
    if (f.error) lines.push(`error ${plain(f.file)}: ${plain(f.error)}`);
    if (f.output && opts.inPlace) lines.push(`redacted ${plain(f.file)} in place (old bytes overwritten)`);
    else if (f.output) lines.push(`wrote ${plain(f.output)}`);
  }
  // Files that failed part-way were still (partly) scanned and may hold findings.
  const scanned = res.files.filter((f) => !f.skipped).length;
  const failed = res.files.filter((f) => f.error).length;
  const skipped = res.files.filter((f) => f.skipped).length;
  const notes = [failed > 0 ? `${failed} failed` : "", skipped > 0 ? `${skipped} skipped` : ""].filter(Boolean);
  const tail = notes.length > 0 ? ` (${notes.join(", ")})` : "";
  if (total === 0) {
    lines.push(`no personal data found in ${scanned} file${scanned === 1 ? "" : "s"}${tail}`);
  } else {
    const dirty = res.files.filter((f) => f.findings > 0).length;
    const byType = Object.entries(res.counts)
      .sort((a, b) => b[1] - a[1])
      .map(([t, n]) => `${t} ${n}`)
      .join(", ");
    lines.push(`found ${total} in ${dirty} of ${scanned} file${scanned === 1 ? "" : "s"}${tail}: ${byType}`);
  }
  if (opts.inPlace && total > 0) {
    lines.push("Note: overwriting is not a guarantee on copy-on-write, journaling or flash storage.");
  }
  return lines.join("\n");
}

/** Custom patterns and keys from the config, when there is one; scan-logs also works without it. */
function redactConfig(configPath: string | undefined): Pick<ScanLogsCommandOptions, "patterns" | "keys"> {
  const path = configPath ?? process.env.LETHE_CONFIG ?? "lethe.yaml";
  if (configPath === undefined && !existsSync(path)) return {};
  // Only `redact:` is read: scan-logs runs where store secrets are not set, and needs none of them.
  const { doc } = readConfigDocument(path);
  const r = redactSchema.optional().safeParse(doc.redact);
  if (!r.success) throw new ConfigError(r.error.issues.map((i) => `${issuePath(["redact", ...i.path])}: ${i.message}`));
  const issues = redactRules(r.data);
  if (issues.length > 0) throw new ConfigError(issues);
  return { patterns: r.data?.patterns ?? [], keys: r.data?.keys ?? [] };
}

export function registerScanLogs(program: Command, run: Runner): void {
  program
    .command("scan-logs <paths...>")
    .description("find personal data leaked into log files (plain, .gz, JSON lines; directories recursively)")
    .option("--redact", "write a redacted copy next to each file with findings")
    .option("--in-place", "replace each file with findings atomically, then shred the old bytes (implies --redact)")
    .action((paths: string[], _o, cmd: Command) =>
      run(async () => {
        const o = cmd.optsWithGlobals<GlobalOptions & { redact?: boolean; inPlace?: boolean }>();
        return scanLogsCommand(paths, {
          ...redactConfig(o.config),
          json: o.json === true,
          redact: o.redact === true,
          inPlace: o.inPlace === true,
        });
      }),
    );
}
