/** What every command returns; only the entry file prints it and exits. */
export interface CommandResult {
  exitCode: number;
  /** The `--json` document. */
  json: unknown;
  /** Human text for a terminal. */
  text: string;
  /**
   * Bytes printed as they are, with or without `--json` (a signed receipt is
   * only valid byte for byte, so it must not be re-serialised).
   */
  raw?: string;
}

export interface GlobalOptions {
  config?: string;
  json?: boolean;
}

export function result(json: unknown, text: string, exitCode = 0): CommandResult {
  return { exitCode, json, text };
}
