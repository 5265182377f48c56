/**
 * What lethe notifies about (docs/notifications.md). A webhook subscribes to
 * some or all of these; payloads carry ids, counts, dataset/store names and
 * subject HMACs, never a raw subject, path or item key.
 */
export const NOTIFY_EVENTS = [
  "erasure.received",
  "erasure.completed",
  "erasure.partial",
  "erasure.failed",
  "erasure.due_soon",
  "erasure.overdue",
  "run.failed",
  "run.refused",
  "janitor.findings",
  "store.down",
] as const;

export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];
