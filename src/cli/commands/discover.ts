import type { Command } from "commander";
import { LetheError } from "../../core/errors.js";
import { withLethe } from "../context.js";
import { table } from "../format.js";
import type { Runner } from "../program.js";
import { type GlobalOptions, result } from "../result.js";

/** `lethe discover`: personal-looking tables/columns an erasure would miss; exit 1 when any. */
export function registerDiscover(program: Command, run: Runner): void {
  program
    .command("discover")
    .description("find tables and columns that look like personal data but are not covered by the data map")
    .option(
      "--sample <n>",
      "values sampled per text column (files/objects per store, keys per keyspace) to judge by content (0: names only)",
      "1000",
    )
    .action((_o, cmd: Command) =>
      run(async () => {
        const o = cmd.optsWithGlobals<GlobalOptions & { sample: string }>();
        const sampleSize = Number(o.sample);
        if (!Number.isSafeInteger(sampleSize) || sampleSize < 0)
          throw new LetheError("USAGE", "--sample: expected a whole number");
        return withLethe(o, async (lethe) => {
          const r = await lethe.discover({ sampleSize });
          const skipped = r.stores.filter((s) => !s.inspected).map((s) => s.name);
          const note = skipped.length ? `\n(not inspectable, not checked: ${skipped.join(", ")})` : "";
          if (r.unmapped.length === 0)
            return result(r, `Every personal-looking column found is covered by the data map.${note}`);
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
