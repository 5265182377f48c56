import { existsSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Command } from "commander";
import { configJsonSchema, SCHEMA_MODELINE } from "../../config/json-schema.js";
import { LetheError } from "../../core/errors.js";
import type { Runner } from "../program.js";
import { type GlobalOptions, result } from "../result.js";

export const STARTER_CONFIG = `${SCHEMA_MODELINE}
# lethe.yaml: what lethe may delete, where, and when. Validated on load;
# an unknown or misspelt key is an error, never silently ignored.
# Check it offline with: lethe validate. Editor completion: lethe schema > lethe.schema.json
version: 1

# lethe's own state (ledger, runs, holds, keys). Embedded default: SQLite in
# this folder. Several instances share state through PostgreSQL:
# state: postgres://lethe@127.0.0.1:5432/lethe   (or env:LETHE_STATE when the URL holds a password)
state: ./.lethe

# When retention runs (cron, UTC). Datasets may override with their own schedule.
schedule: "0 2 * * *"
# A run missed while lethe was down still fires at start-up within this grace.
misfireGrace: 1h

safety:
  # Refuse a run that would delete more than this share of a dataset (--force overrides).
  maxFraction: 0.9

# Where data lives. Secrets are references (env:NAME or file:PATH), never inline.
stores:
  appdb: { kind: sql, url: "sqlite:./ai_data.db" }   # or postgres://user@host/db, mysql://…/db, or env:APPDB_URL
  models: { kind: fs, root: ./data/models }
  # blobs: { kind: s3, bucket: inference, prefix: "transient/", region: us-east-1 }

# The data map: every kind of item about people, with its retention.
# Durations always carry a unit: 90s, 15m, 1h, 30d (a bare number is rejected).
datasets:
  inference_logs:
    store: appdb
    table: inference_logs
    key: id                      # primary key column
    subject: user_id             # the data subject (used by erasure and holds)
    createdAt: created_at        # ISO text, epoch s/ms, or native timestamps
    retention: 30d
  training_records:
    store: appdb
    table: training_records
    key: id
    subject: user_id
    createdAt: created_at
    retention: { column: retention_days, unit: days }   # per-row retention
    files: { column: file_path, store: models }          # the row's file goes with it
  checkpoints:
    store: models
    include: ["checkpoints/**/*.{pt,pth,onnx,safetensors,bin,pkl}"]   # only these files, never configs
    retention: 60d               # by modification time
    action: shred                # delete (default) | shred
`;

/** `lethe init`: writes a commented starter config; never overwrites. */
export function registerInit(program: Command, run: Runner): void {
  program
    .command("init")
    .description("write a commented lethe.yaml to start from")
    .action((_o, cmd: Command) =>
      run(async () => {
        const o = cmd.optsWithGlobals<GlobalOptions>();
        const path = resolve(o.config ?? "lethe.yaml");
        if (existsSync(path)) throw new LetheError("USAGE", `${path} already exists; not overwritten`);
        writeFileSync(path, STARTER_CONFIG, { flag: "wx" });
        // The modeline points editors at this file; regenerate it after an upgrade with `lethe schema`.
        const schemaPath = join(dirname(path), "lethe.schema.json");
        const wroteSchema = !existsSync(schemaPath);
        if (wroteSchema) writeFileSync(schemaPath, `${JSON.stringify(configJsonSchema(), null, 2)}\n`, { flag: "wx" });
        const also = wroteSchema ? ` and ${schemaPath} (editor completion)` : "";
        return result(
          { path, ...(wroteSchema ? { schema: schemaPath } : {}) },
          `Wrote ${path}${also}. Edit the stores and datasets, check with: lethe validate, then run: lethe plan`,
        );
      }),
    );
}
