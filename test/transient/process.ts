import { type ChildProcess, spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";

export const DIST = resolve(import.meta.dirname, "../../dist/index.js");

/** Starts a node child running `script` (an ESM source string) and resolves once it prints a line starting with `marker`. */
export function child(
  script: string,
  args: string[],
  marker: string,
): Promise<{ proc: ChildProcess; line: string; exited: Promise<number | null> }> {
  return new Promise((ok, fail) => {
    const proc = spawn(process.execPath, ["--input-type=module", "-e", script, ...args], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    const exited = new Promise<number | null>((r) => proc.on("exit", (code, sig) => r(code ?? (sig ? -1 : null))));
    let out = "";
    let err = "";
    let found = false;
    proc.stderr?.on("data", (d) => (err += d));
    proc.stdout?.on("data", (d) => {
      // Once the marker is seen the caller reads stdout itself: re-splitting all of a child's later output on
      // every chunk made reading a few MB from it take seconds.
      if (found) return;
      out += d;
      const line = out.split("\n").find((l) => l.startsWith(marker));
      if (line) {
        found = true;
        ok({ proc, line, exited });
      }
    });
    proc.on("exit", () => fail(new Error(`child exited before "${marker}": ${out}\n${err}`)));
  });
}

/** A real local HTTP server recording every POST body. */
export async function webhookServer(): Promise<{ url: string; bodies: unknown[]; close(): Promise<void> }> {
  const bodies: unknown[] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      if (req.method === "POST") bodies.push(JSON.parse(body));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/lethe-alerts`,
    bodies,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
