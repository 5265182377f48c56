import type { Command } from "commander";
import { sql } from "kysely";
import { loadConfigFile } from "../../config/load.js";
import { LetheError } from "../../core/errors.js";
import { loadMasterKey } from "../../crypto/master-key.js";
import { deriveChainKey } from "../../ledger/head-mac.js";
import { keyHeadAfterMigration } from "../../ledger/key-head.js";
import { migrateState } from "../../state/migrate-state.js";
import { openState } from "../../state/open-state.js";
import { cliWarn } from "../context.js";
import type { Runner } from "../program.js";
import { type GlobalOptions, result } from "../result.js";

/**
 * `lethe state backup --out FILE` (SQLite state: an online, consistent copy)
 * and `lethe state migrate --to URL` (every row, history unchanged).
 */
export function registerState(program: Command, run: Runner): void {
  const state = program.command("state").description("operate lethe's own state: backup, migrate");
  state
    .command("backup")
    .description("write a consistent copy of the SQLite state while lethe runs (PostgreSQL state: use pg_dump)")
    .requiredOption("--out <file>", "the backup file to create (must not exist)")
    .action((_o, cmd: Command) =>
      run(async () => {
        const o = cmd.optsWithGlobals<GlobalOptions & { out: string }>();
        const config = loadConfigFile(o.config);
        if (config.state.kind !== "sqlite")
          throw new LetheError("USAGE", "state backup copies SQLite state; back up PostgreSQL state with pg_dump");
        const handle = await openState(config.state);
        await keyHeadAfterMigration(handle, () => deriveChainKey(loadMasterKey(config, cliWarn)));
        try {
          // One read transaction: the copy is the state at one instant, ledger and intents consistent.
          await sql`vacuum into ${o.out}`.execute(handle.db);
        } catch (err) {
          throw new LetheError("STATE_ERROR", `state backup: ${(err as Error).message}`, undefined, { cause: err });
        } finally {
          await handle.close();
        }
        return result({ file: o.out }, `State copied to ${o.out}. The master key is not in it: keep it apart.`);
      }),
    );
  state
    .command("migrate")
    .description("copy lethe's state, ledger included and unchanged, into an empty database (e.g. PostgreSQL)")
    .requiredOption("--to <url>", "postgres://… (an empty database), or sqlite:DIR for a state folder")
    .action((_o, cmd: Command) =>
      run(async () => {
        const o = cmd.optsWithGlobals<GlobalOptions & { to: string }>();
        const config = loadConfigFile(o.config);
        const target = /^postgres(ql)?:\/\//.test(o.to)
          ? { kind: "postgres" as const, url: o.to, dir: config.state.dir }
          : o.to.startsWith("sqlite:")
            ? { kind: "sqlite" as const, dir: o.to.slice("sqlite:".length) }
            : undefined;
        if (!target) throw new LetheError("USAGE", "--to: expected postgres://… or sqlite:DIR");
        const from = await openState(config.state);
        await keyHeadAfterMigration(from, () => deriveChainKey(loadMasterKey(config, cliWarn)));
        try {
          const to = await openState(target);
          try {
            const tables = await migrateState(from, to);
            const n = tables.find((t) => t.table === "ledger")?.rows ?? 0;
            return result(
              { tables },
              `Copied ${tables.length} tables (${n} ledger entries, unchanged). Point state: at the new database` +
                " (keep the same master key), run lethe audit verify, then retire the old state.",
            );
          } finally {
            await to.close();
          }
        } finally {
          await from.close();
        }
      }),
    );
}
