import type { Migration, MigrationProvider } from "kysely";
import * as m0001 from "./0001-init.js";
import * as m0002 from "./0002-erasure.js";
import * as m0003 from "./0003-transient.js";
import * as m0004 from "./0004-server.js";
import * as m0005 from "./0005-ledger-tags.js";
import * as m0006 from "./0006-ledger-anchors.js";
import * as m0007 from "./0007-notify-outbox.js";
import * as m0008 from "./0008-owner-liveness.js";
import * as m0009 from "./0009-ledger-head-mac.js";
import * as m0010 from "./0010-signing-keys.js";
import * as m0011 from "./0011-ledger-items.js";
import * as m0012 from "./0012-intent-mac.js";
import * as m0013 from "./0013-holds-seal.js";

/**
 * Numbered migrations, applied automatically on open. Append only: a shipped
 * migration is never edited, a change is a new number.
 */
const MIGRATIONS: Record<string, Migration> = {
  "0001-init": m0001,
  "0002-erasure": m0002,
  "0003-transient": m0003,
  "0004-server": m0004,
  "0005-ledger-tags": m0005,
  "0006-ledger-anchors": m0006,
  "0007-notify-outbox": m0007,
  "0008-owner-liveness": m0008,
  "0009-ledger-head-mac": m0009,
  "0010-signing-keys": m0010,
  "0011-ledger-items": m0011,
  "0012-intent-mac": m0012,
  "0013-holds-seal": m0013,
};

export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return MIGRATIONS;
  },
};
