/**
 * The janitor's alert: a JSON POST to `alerts.webhook`. The payload carries
 * kinds, counts, datasets, ids, ages and integer keys only: never a raw
 * subject, a non-integer item key or an error text that could hold one.
 *
 * @example
 * await postAlert("https://hooks.example/lethe", { source: "lethe", kind: "janitor", findings: [] });
 */
export interface AlertOutcome {
  sent: boolean;
  status?: number;
  error?: string;
}

export async function postAlert(url: string, payload: unknown, timeoutMs = 10_000): Promise<AlertOutcome> {
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": "lethe-janitor" },
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.arrayBuffer().catch(() => undefined);
    return res.ok
      ? { sent: true, status: res.status }
      : { sent: false, status: res.status, error: `webhook answered ${res.status}` };
  } catch (err) {
    return { sent: false, error: (err as Error).message };
  }
}
