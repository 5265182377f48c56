import type { Command } from "commander";
import { configJsonSchema } from "../../config/json-schema.js";
import { validateConfigFile } from "../../config/validate.js";
import type { Runner } from "../program.js";
import { type GlobalOptions, result } from "../result.js";

/**
 * `lethe validate`: the offline config check (schema + cross-field rules; no
 * store contacted, nothing written), exit 0 or 2. `lethe schema`: the JSON
 * Schema of lethe.yaml for editors.
 */
export function registerValidate(program: Command, run: Runner): void {
  program
    .command("validate")
    .description("check lethe.yaml offline (schema and cross-field rules; no store contacted, nothing written)")
    .action((_o, cmd: Command) =>
      run(async () => {
        const o = cmd.optsWithGlobals<GlobalOptions>();
        const r = validateConfigFile(o.config);
        const lines = [
          `${r.file}: valid (${r.stores} store${r.stores === 1 ? "" : "s"}, ${r.datasets} dataset${r.datasets === 1 ? "" : "s"})`,
          ...r.warnings.map((w) => `warning: ${w}`),
          "Tables, columns and connections are checked when a command opens the stores (e.g. lethe plan).",
        ];
        return result({ ok: true, ...r }, lines.join("\n"));
      }),
    );
  program
    .command("schema")
    .description("print the JSON Schema of lethe.yaml (for editors: see README, yaml-language-server)")
    .action(() =>
      run(async () => {
        const doc = `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
        return { exitCode: 0, json: undefined, text: "", raw: doc };
      }),
    );
}
