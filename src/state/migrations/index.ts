import type { Migration, MigrationProvider } from "kysely";
import * as m0001 from "./0001-init.js";

/**
 * Numbered migrations, applied automatically on open. Append only: a shipped
 * migration is never edited, a change is a new number.
 */
const MIGRATIONS: Record<string, Migration> = {
  "0001-init": m0001,
};

export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return MIGRATIONS;
  },
};
