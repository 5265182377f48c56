import type { DatasetConfig, LetheConfig } from "../config/types.js";

/** The limit in force for one dataset: its own `safety`, else the global one. */
export interface SafetyLimit {
  maxFraction: number;
  /** The fraction applies only when a run would delete more than this many items. */
  minItems: number;
}

/** Why a dataset's run would be refused, or undefined when it is within its limit. */
export interface SafetyVerdict {
  dataset: string;
  wouldDelete: number;
  total: number;
  limit: SafetyLimit;
  /** One line for humans, e.g. `chats: 950 of 1000 items (95.0% > 90%)`. */
  reason: string;
}

/**
 * The limit for a dataset: `datasets.<name>.safety` key by key over the
 * global `safety` (whose `minItems` defaults to 0).
 *
 * @example
 * safetyLimit(config, ds.config); // { maxFraction: 1, minItems: 0 }
 */
export function safetyLimit(config: LetheConfig, ds: DatasetConfig): SafetyLimit {
  return {
    maxFraction: ds.safety?.maxFraction ?? config.safety.maxFraction,
    minItems: ds.safety?.minItems ?? config.safety.minItems ?? 0,
  };
}

/**
 * The safety limit, the one place it is written: deleting `wouldDelete` of
 * `total` items is refused when it is more than `minItems` items and more
 * than `maxFraction` of the dataset. Retention, the janitor and `plan` ask
 * here, so they never disagree.
 *
 * @example
 * const v = safetyVerdict(config, ds.config, 950, 1000);
 * if (v) throw new LetheError("SAFETY_LIMIT", v.reason);
 */
export function safetyVerdict(
  config: LetheConfig,
  ds: DatasetConfig,
  wouldDelete: number,
  total: number,
): SafetyVerdict | undefined {
  const limit = safetyLimit(config, ds);
  if (total <= 0 || wouldDelete <= limit.minItems || wouldDelete / total <= limit.maxFraction) return undefined;
  const pct = ((100 * wouldDelete) / total).toFixed(1);
  const floor = limit.minItems > 0 ? `, more than minItems ${limit.minItems}` : "";
  return {
    dataset: ds.name,
    wouldDelete,
    total,
    limit,
    reason: `${ds.name}: ${wouldDelete} of ${total} items (${pct}% > ${limit.maxFraction * 100}%${floor})`,
  };
}
