import type { DatasetConfig } from "../../src/config/types.js";

/** A normalized dataset config with defaults, for driver-level tests. */
export function datasetConfig(partial: Partial<DatasetConfig> & { name: string; store: string }): DatasetConfig {
  return {
    storeKind: "sql",
    table: undefined,
    key: undefined,
    subject: undefined,
    createdAt: undefined,
    retention: { kind: "duration", seconds: 86_400 },
    files: undefined,
    include: [],
    exclude: [],
    action: "delete",
    schedule: "0 2 * * *",
    batchSize: 5000,
    subjectFromPath: undefined,
    derived: [],
    ledger: "items",
    ...partial,
  };
}

export function collectIssues() {
  const errors: string[] = [];
  const warnings: string[] = [];
  return {
    errors,
    warnings,
    error: (p: string, m: string) => errors.push(`${p}: ${m}`),
    warn: (p: string, m: string) => warnings.push(`${p}: ${m}`),
  };
}
