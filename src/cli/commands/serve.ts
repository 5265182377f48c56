import type { Command } from "commander";
import { loadConfigFile } from "../../config/load.js";
import { LetheError } from "../../core/errors.js";
import { openLethe } from "../../lethe.js";
import type { LetheService } from "../../server/service.js";
import type { Runner } from "../program.js";
import { type GlobalOptions, result } from "../result.js";

interface ServeOptions extends GlobalOptions {
  port?: string;
  host?: string;
}

function parsePort(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!/^\d+$/.test(s) || n > 65_535) throw new LetheError("USAGE", `--port: expected a port number 0-65535, got ${s}`);
  return n;
}

function nextSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals) => {
      process.off("SIGTERM", on);
      process.off("SIGINT", on);
      resolve(sig);
    };
    process.on("SIGTERM", on);
    process.on("SIGINT", on);
  });
}

/**
 * `lethe serve`: runs in the foreground until SIGTERM/SIGINT, logging JSON
 * lines (through the redacting logger) on stdout; then finishes the current
 * batch, records it and exits 0.
 */
export function registerServe(program: Command, run: Runner): void {
  program
    .command("serve")
    .description("scheduler + HTTP API + dashboard, in the foreground (SIGTERM: finish the batch, record it, exit)")
    .option("--port <port>", "listen port (default server.port, 8787; 0 picks a free one)")
    .option("--host <host>", "listen address (default server.host, 127.0.0.1)")
    .action((_o, cmd: Command) =>
      run(async () => {
        const o = cmd.optsWithGlobals<ServeOptions>();
        const port = parsePort(o.port);
        const config = loadConfigFile(o.config);
        // The HTTP stack (Fastify, pino, prom-client) loads only here: every other command starts faster.
        const [{ createLogger }, { LetheService }] = await Promise.all([
          import("../../redact/logger.js"),
          import("../../server/service.js"),
        ]);
        const log = createLogger({
          destination: 1,
          level: process.env.LETHE_LOG_LEVEL ?? "info",
          patterns: config.redact.patterns,
          keys: config.redact.keys,
        });
        const lethe = await openLethe(config, {
          logger: { warn: (msg) => log.warn(msg), info: (msg) => log.info(msg) },
          // The service's drainer is the one processing loop (it also picks up retries when due).
          events: { autoRetry: false },
        });
        let service: LetheService;
        try {
          service = await LetheService.start(lethe, {
            log,
            ...(port !== undefined ? { port } : {}),
            ...(o.host !== undefined ? { host: o.host } : {}),
            accessLog: process.env.LETHE_ACCESS_LOG !== "off",
          });
        } catch (err) {
          await lethe.close();
          throw err;
        }
        const sig = await nextSignal();
        await service.stop(`received ${sig}`);
        return result(undefined, "");
      }),
    );
}
