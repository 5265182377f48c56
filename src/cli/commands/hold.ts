import type { Command } from "commander";
import { normalizeSubjects } from "../../core/erasure.js";
import { LetheError } from "../../core/errors.js";
import { withLetheState } from "../context.js";
import { table } from "../format.js";
import type { Runner } from "../program.js";
import { type GlobalOptions, result } from "../result.js";

function parseDate(s: string | undefined, flag: string): Date | undefined {
  if (s === undefined) return undefined;
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) throw new LetheError("USAGE", `${flag}: expected a date like 2027-01-31, got ${s}`);
  return d;
}

/** `lethe hold add|list|release`: legal holds by subject or dataset. */
export function registerHold(program: Command, run: Runner): void {
  const hold = program.command("hold").description("legal holds: held items are never deleted, every skip is recorded");

  hold
    .command("add")
    .description("hold a subject's items, or a whole dataset")
    .option("--subject <id>", "the data subject to hold (stored only as its HMAC)")
    .option("--dataset <name>", "the dataset to hold")
    .requiredOption("--reason <text>", "why (cited whenever the hold keeps something back)")
    .option("--until <date>", "the hold ends by itself at this date")
    .action((_o, cmd: Command) =>
      run(async () => {
        const o = cmd.optsWithGlobals<
          GlobalOptions & { subject?: string; dataset?: string; reason: string; until?: string }
        >();
        const until = parseDate(o.until, "--until");
        return withLetheState(o, async (lethe) => {
          if (o.dataset !== undefined) lethe.map.known(o.dataset);
          const id = await lethe.holds.add({
            reason: o.reason,
            ...(o.subject !== undefined ? { subject: o.subject } : {}),
            ...(o.dataset !== undefined ? { dataset: o.dataset } : {}),
            ...(until ? { until } : {}),
          });
          return result({ id }, `Hold ${id} added.`);
        });
      }),
    );

  hold
    .command("list")
    .description("active holds")
    .option("--subject <id>", "only holds on this subject (compared by its HMAC)")
    .option("--dataset <name>", "only holds on this dataset")
    .action((_o, cmd: Command) =>
      run(async () => {
        const o = cmd.optsWithGlobals<GlobalOptions & { subject?: string; dataset?: string }>();
        return withLetheState(o, async (lethe) => {
          const [subject] = o.subject !== undefined ? normalizeSubjects([o.subject]) : [];
          const subjectHash = subject !== undefined ? lethe.ledger.subjectHash(subject) : undefined;
          const holds = (await lethe.holds.list()).filter(
            (h) =>
              (subjectHash === undefined || h.subjectHash === subjectHash) &&
              (o.dataset === undefined || h.dataset === o.dataset),
          );
          const rows: string[][] = [["id", "on", "reason", "until"]];
          for (const h of holds)
            rows.push([
              h.id,
              h.dataset ? `dataset ${h.dataset}` : `subject #${h.subjectHash?.slice(0, 12)}`,
              h.reason,
              h.until ?? "",
            ]);
          const none =
            o.subject !== undefined || o.dataset !== undefined ? "No active holds match." : "No active holds.";
          return result({ holds }, holds.length ? table(rows) : none);
        });
      }),
    );

  hold
    .command("release <id>")
    .description("end a hold")
    .action((id: string, _o, cmd: Command) =>
      run(async () => {
        const o = cmd.optsWithGlobals<GlobalOptions>();
        return withLetheState(o, async (lethe) => {
          await lethe.holds.release(id);
          return result({ id, released: true }, `Hold ${id} released.`);
        });
      }),
    );
}
