import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import { LetheError } from "../../core/errors.js";
import { checkReceivedAt } from "../../core/requests/received-at.js";
import { REQUEST_STATUSES, type RequestDetail, type RequestStatus } from "../../core/requests/types.js";
import { withLethe, withLetheState } from "../context.js";
import { table } from "../format.js";
import type { Runner } from "../program.js";
import { type GlobalOptions, result } from "../result.js";

function renderDetail(r: RequestDetail): string {
  const lines = [
    `Request ${r.id}: ${r.status}${r.overdue ? " (OVERDUE)" : ""}`,
    `  received ${r.receivedAt}, due ${r.dueAt}${r.completedAt ? `, completed ${r.completedAt}` : ""}`,
    `  subject #${r.subjectHash.slice(0, 16)}${r.reason ? `, reason: ${r.reason}` : ""}`,
  ];
  if (r.policyHash) lines.push(`  policy frozen at start: ${r.policyHash.slice(0, 16)}, attempts: ${r.attempts}`);
  for (const e of r.extensions) lines.push(`  extended by ${e.by} on ${e.at}: ${e.reason}`);
  if (r.datasets.length > 0) {
    const rows: (string | number)[][] = [["dataset", "found", "deleted", "held", "files", "failed", "residue"]];
    for (const d of r.datasets) rows.push([d.name, d.found, d.deleted, d.held, d.filesRemoved, d.failed, d.residue]);
    lines.push(table(rows));
  }
  for (const h of r.holds) lines.push(`  held back by hold ${h.id} (${h.held} in ${h.dataset}): ${h.reason}`);
  for (const l of r.lineage)
    for (const d of l.derived)
      lines.push(`  lineage: ${d.dataset} (${d.count} artifact(s)) was trained from ${l.dataset}`);
  if (r.error) lines.push(`  error: ${r.error}`);
  return lines.join("\n");
}

/** `lethe requests create|list|show|process|extend|receipt`: tracked erasure requests with deadlines. */
export function registerRequests(program: Command, run: Runner): void {
  const req = program.command("requests").description("erasure requests: create, list, show, process, extend, receipt");

  req
    .command("create <subject>")
    .description("record an erasure request; due date = received + erasure.deadline")
    .option("--received-at <date>", "when the request was received (default now)")
    .option("--reason <text>", "context, e.g. the ticket (recorded on the ledger)")
    .action((subject: string, _o, cmd: Command) =>
      run(async () => {
        const o = cmd.optsWithGlobals<GlobalOptions & { receivedAt?: string; reason?: string }>();
        const receivedAt = o.receivedAt === undefined ? undefined : checkReceivedAt(o.receivedAt, "--received-at");
        return withLetheState(o, async (lethe) => {
          const r = await lethe.requests.create(subject, {
            ...(receivedAt ? { receivedAt } : {}),
            ...(o.reason !== undefined ? { reason: o.reason } : {}),
          });
          const what = r.existing ? "An open request for this subject already exists" : "Request recorded";
          return result(r, `${what}: ${r.id} (${r.status}), due ${r.dueAt}. Run "lethe requests process" to erase.`);
        });
      }),
    );

  req
    .command("list")
    .description("requests with their status and due date")
    .option("--overdue", "only open requests past their due date")
    .option("--status <status>", `only this status (${REQUEST_STATUSES.join(", ")})`)
    .action((_o, cmd: Command) =>
      run(async () => {
        const o = cmd.optsWithGlobals<GlobalOptions & { overdue?: boolean; status?: string }>();
        if (o.status !== undefined && !REQUEST_STATUSES.includes(o.status as RequestStatus))
          throw new LetheError("USAGE", `--status: expected one of ${REQUEST_STATUSES.join(", ")}`);
        return withLetheState(o, async (lethe) => {
          const requests = await lethe.requests.list({
            ...(o.status ? { status: o.status as RequestStatus } : {}),
            ...(o.overdue ? { overdue: true } : {}),
          });
          const rows: string[][] = [["id", "status", "received", "due", ""]];
          for (const r of requests) rows.push([r.id, r.status, r.receivedAt, r.dueAt, r.overdue ? "OVERDUE" : ""]);
          return result({ requests }, requests.length ? table(rows) : "No requests match.");
        });
      }),
    );

  req
    .command("show <id>")
    .description("one request with its per-dataset outcome")
    .action((id: string, _o, cmd: Command) =>
      run(async () => {
        const o = cmd.optsWithGlobals<GlobalOptions>();
        return withLetheState(o, async (lethe) => {
          const r = await lethe.requests.show(id);
          return result(r, renderDetail(r));
        });
      }),
    );

  req
    .command("process [id]")
    .description("process one request, or every open one (idempotent; resumes interrupted ones)")
    .action((id: string | undefined, _o, cmd: Command) =>
      run(async () => {
        const o = cmd.optsWithGlobals<GlobalOptions>();
        return withLethe(o, async (lethe) => {
          const processed = await lethe.requests.process(id);
          const code = processed.some((p) => p.status === "failed" || p.status === "partial")
            ? 1
            : processed.some((p) => p.status === "partially_held")
              ? 3
              : 0;
          const text = processed.length ? processed.map((p) => `${p.id}: ${p.status}`).join("\n") : "No open requests.";
          return result({ processed }, text, code);
        });
      }),
    );

  req
    .command("extend <id>")
    .description("move a request's due date, with the reason recorded")
    .requiredOption("--by <duration>", "how much longer, e.g. 30d")
    .requiredOption("--reason <text>", "why (recorded on the request and the ledger)")
    .action((id: string, _o, cmd: Command) =>
      run(async () => {
        const o = cmd.optsWithGlobals<GlobalOptions & { by: string; reason: string }>();
        return withLetheState(o, async (lethe) => {
          const r = await lethe.requests.extend(id, o.by, o.reason);
          return result(r, `Request ${r.id} is now due ${r.dueAt}.`);
        });
      }),
    );

  req
    .command("receipt <id>")
    .description("the signed receipt of a completed (or partially held) request")
    .option("--out <file>", "write the receipt file here (otherwise printed)")
    .action((id: string, _o, cmd: Command) =>
      run(async () => {
        const o = cmd.optsWithGlobals<GlobalOptions & { out?: string }>();
        return withLetheState(o, async (lethe) => {
          const text = await lethe.requests.receipt(id);
          if (o.out) {
            writeFileSync(o.out, text);
            return result(
              { id, out: o.out },
              `Receipt for ${id} written to ${o.out}; check it with "lethe receipt verify".`,
            );
          }
          return { ...result(JSON.parse(text), text.trimEnd()), raw: text };
        });
      }),
    );
}
