import type { Command } from "commander";
import { MAX_SAMPLE_SIZE } from "../../core/discover.js";
import { LetheError } from "../../core/errors.js";
import { withLethe } from "../context.js";
import { plain, table } from "../format.js";
import type { Runner } from "../program.js";
import { type GlobalOptions, result } from "../result.js";

/**
 * `lethe discover`: personal-looking tables/columns an erasure would miss; exit 1 when any, or when a store could
 * not be inspected.
 *
 * @example
 * registerDiscover(program, run); // then: lethe discover --sample 500 --json
 */
export function registerDiscover(program: Command, run: Runner): void {
  program
    .command("discover")
    .description("find tables and columns that look like personal data but are not covered by the data map")
    .option(
      "--sample <n>",
      `values sampled per text column, files/objects per folder shape, keys per key shape, to judge by content (1 to ${MAX_SAMPLE_SIZE})`,
      "1000",
    )
    .action((_o, cmd: Command) =>
      run(async () => {
        const o = cmd.optsWithGlobals<GlobalOptions & { sample: string }>();
        const sampleSize = Number(o.sample);
        if (
          !/^\d+$/.test(o.sample) ||
          !Number.isSafeInteger(sampleSize) ||
          sampleSize < 1 ||
          sampleSize > MAX_SAMPLE_SIZE
        )
          throw new LetheError(
            "USAGE",
            `--sample: expected a whole number from 1 to ${MAX_SAMPLE_SIZE}, got ${o.sample}`,
          );
        return withLethe(o, async (lethe) => {
          const r = await lethe.discover({ sampleSize });
          const unchecked = r.stores.filter((s) => !s.inspected);
          const note = unchecked.length
            ? `\nNot inspected, so not checked: ${unchecked.map((s) => `${plain(s.name)} (${s.reason}${s.error ? ` ${s.error}` : ""})`).join(", ")}`
            : "";
          if (r.unmapped.length === 0) {
            if (unchecked.length === 0)
              return result(r, "Every personal-looking column found is covered by the data map.");
            const seen = r.stores.filter((s) => s.inspected).map((s) => plain(s.name));
            const head = seen.length
              ? `Nothing uncovered found in the stores inspected (${seen.join(", ")}); the others were not checked.`
              : "No store could be inspected: nothing was checked.";
            return result(r, `${head}${note}`, 1);
          }
          const rows = [
            ["store", "table", "column", "found", "why"],
            ...r.unmapped.map((u) => [
              u.store,
              u.table,
              u.column,
              u.type ? `${u.type} ${Math.round((u.share ?? 0) * 100)}% (${u.excerpt})` : "",
              u.reason,
            ]),
          ];
          return result(r, `Not covered by the data map (an erasure would miss these):\n${table(rows)}${note}`, 1);
        });
      }),
    );
}
