import type { LetheConfig } from "../config/types.js";
import { isLetheError } from "../core/errors.js";
import type { ApplyOptions, ApplyResult } from "../core/retention.js";
import type { StateHandle } from "../state/open-state.js";
import { notify } from "./notify.js";

/**
 * Runs a retention run and reports its failure: `run.refused` when the
 * safety limit stopped it before the first delete, `run.failed` when it threw
 * or ended with failed items. Every retention run (CLI, schedule, HTTP) goes
 * through `Lethe.apply`, which calls this. Payloads name datasets and counts
 * and an error code, never an error text (a store's message can quote data).
 *
 * @example
 * const r = await withRunNotifications(deps, opts, () => applyRetention(deps, opts));
 */
export async function withRunNotifications(
  deps: { config: LetheConfig; state: StateHandle },
  opts: ApplyOptions,
  run: () => Promise<ApplyResult>,
): Promise<ApplyResult> {
  const cfg = deps.config.notifications;
  let r: ApplyResult;
  try {
    r = await run();
  } catch (err) {
    if (cfg.webhooks.length > 0) {
      const code = isLetheError(err) ? err.code : "INTERNAL";
      const refused = code === "SAFETY_LIMIT";
      const data = {
        ...(opts.dataset ? { dataset: opts.dataset } : {}),
        error: code,
        ...(refused ? { refused: refusedDatasets(err) } : {}),
      };
      await notify(deps.state.db, cfg, refused ? "run.refused" : "run.failed", data).catch(() => undefined);
    }
    throw err;
  }
  const failed = r.datasets.filter((d) => d.failed > 0);
  if (failed.length > 0)
    await notify(deps.state.db, cfg, "run.failed", {
      runId: r.runId,
      error: "PARTIAL_FAILURE",
      datasets: failed.map((d) => ({ name: d.name, failed: d.failed, deleted: d.deleted })),
    });
  return r;
}

/** `name: n of total items (p% > limit%)` lines → structured, numbers and names only. */
function refusedDatasets(err: unknown): { dataset: string; detail: string }[] {
  const lines = isLetheError(err) ? err.details?.datasets : undefined;
  if (!Array.isArray(lines)) return [];
  return lines
    .filter((l): l is string => typeof l === "string")
    .map((l) => {
      const i = l.indexOf(": ");
      return i < 0 ? { dataset: l, detail: "" } : { dataset: l.slice(0, i), detail: l.slice(i + 2) };
    });
}
