/** What every command returns; only the entry file prints it and exits. */
export interface CommandResult {
  exitCode: number;
  /** The `--json` document. */
  json: unknown;
  /** Human text for a terminal. */
  text: string;
}

export interface GlobalOptions {
  config?: string;
  json?: boolean;
}

export function result(json: unknown, text: string, exitCode = 0): CommandResult {
  return { exitCode, json, text };
}
