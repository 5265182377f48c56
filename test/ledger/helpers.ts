import { join } from "node:path";
import { type Lethe, openLethe } from "../../src/lethe.js";
import { tempDir, writeConfig } from "../helpers/cli.js";
import { createLogsTable } from "../helpers/project.js";
import { createTestPgDatabase, requireService } from "../helpers/services.js";

const quiet = { logger: { warn: () => undefined, info: () => undefined } };

/**
 * The smallest project whose ledger tests can append to: one SQLite table as
 * a dataset, lethe's state at `state` (a folder, or a PostgreSQL URL).
 * `open()` opens another Lethe on it; `onClose` receives each one's close.
 */
export function ledgerProject(state: string, onClose: (close: () => Promise<void>) => void) {
  const dir = tempDir();
  createLogsTable(join(dir, "app.db"));
  writeConfig(
    dir,
    `version: 1
state: "${state}"
stores:
  appdb: { kind: sql, url: "sqlite:./app.db" }
datasets:
  logs: { store: appdb, table: logs, key: id, subject: user_id, createdAt: created_at, retention: 30d }
`,
  );
  const open = async (): Promise<Lethe> => {
    const l = await openLethe(join(dir, "lethe.yaml"), quiet);
    onClose(() => l.close());
    return l;
  };
  return { dir, open };
}

/**
 * A PostgreSQL state for a ledger test: a fresh database (the run fails, never skips, without the service),
 * dropped by `cleanups`. The SQLite twin is the folder `./.lethe`.
 */
export async function pgState(cleanups: (() => Promise<void>)[]): Promise<string> {
  requireService({} as never, "pg");
  const db = await createTestPgDatabase();
  cleanups.push(() => db.drop());
  return db.url;
}
