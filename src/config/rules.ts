import { redisPatternProblem } from "./redis-pattern.js";
import { sharedKey } from "./redis-pattern-overlap.js";
import type { RawConfig } from "./schema.js";
import { systemRootReason } from "./system-roots.js";

/**
 * Cross-field rules zod cannot express per field. Each message names the key
 * path, like the schema's own messages, so a user sees every problem at once.
 */
export function checkRules(raw: RawConfig, baseDir = process.cwd()): string[] {
  const issues: string[] = [];
  const at = (path: string, msg: string) => issues.push(`${path}: ${msg}`);
  const storeKind = (name: string) => raw.stores[name]?.kind;

  for (const [name, d] of Object.entries(raw.datasets)) {
    const p = `datasets.${name}`;
    const kind = storeKind(d.store);
    if (!kind) {
      at(`${p}.store`, `unknown store "${d.store}" (known: ${Object.keys(raw.stores).join(", ") || "none"})`);
      continue;
    }
    if (kind === "sql") {
      if (!d.table) at(`${p}.table`, "required for a dataset in an sql store");
      if (!d.key) at(`${p}.key`, "required for a dataset in an sql store (the primary key column)");
      if (!d.createdAt && d.retention !== "never")
        at(`${p}.createdAt`, "required for a dataset in an sql store (the creation time column)");
      for (const k of ["include", "exclude", "subjectFromPath"] as const)
        if (d[k] !== undefined) at(`${p}.${k}`, "only for fs and s3 datasets");
      if (d.action === "shred" && !d.files)
        at(`${p}.action`, "shred applies to files; an sql dataset needs files: to shred");
    } else if (kind === "redis") {
      for (const k of [
        "table",
        "key",
        "subject",
        "createdAt",
        "files",
        "ledger",
        "include",
        "exclude",
        "subjectFromPath",
      ] as const)
        if (d[k] !== undefined) at(`${p}.${k}`, `not for redis datasets (store "${d.store}" is redis: use pattern)`);
      if (typeof d.retention === "object") at(`${p}.retention`, "a per-row retention column needs an sql dataset");
      if (d.action === "shred") at(`${p}.action`, "Redis values cannot be overwritten in place; use expire or delete");
      if (d.pattern === undefined)
        at(`${p}.pattern`, 'required for a redis dataset: its key pattern, e.g. "cache:prompt:{subject}:*"');
      else {
        const why = redisPatternProblem(d.pattern);
        if (why) at(`${p}.pattern`, why);
      }
    } else {
      for (const k of ["table", "key", "subject", "createdAt", "files", "ledger"] as const)
        if (d[k] !== undefined) at(`${p}.${k}`, `only for sql datasets (store "${d.store}" is ${kind})`);
      if (typeof d.retention === "object") at(`${p}.retention`, "a per-row retention column needs an sql dataset");
      if (kind === "fs" && !d.include) at(`${p}.include`, "required for an fs dataset: globs of the files it owns");
      if (kind === "s3" && d.action === "shred")
        at(`${p}.action`, "objects cannot be overwritten in place; use delete (and crypto-shredding)");
    }
    if (kind !== "redis" && d.pattern !== undefined)
      at(`${p}.pattern`, `only for redis datasets (store "${d.store}" is ${kind})`);
    if (kind !== "redis" && d.action === "expire")
      at(`${p}.action`, `expire (set a TTL) is for redis datasets; store "${d.store}" is ${kind}: use delete`);
    if (d.events && d.retention === "never")
      at(`${p}.events`, "event-driven deletion is not allowed for a retention: never dataset");
    if (d.files) {
      const fk = storeKind(d.files.store);
      if (fk !== "fs")
        at(
          `${p}.files.store`,
          fk ? `must be an fs store, "${d.files.store}" is ${fk}` : `unknown store "${d.files.store}"`,
        );
    }
    if (d.subjectFromPath !== undefined && !d.subjectFromPath.includes("{subject}"))
      at(`${p}.subjectFromPath`, 'must contain "{subject}", e.g. "users/{subject}/**"');
    for (const [i, dep] of (d.derived ?? []).entries())
      if (!raw.datasets[dep]) at(`${p}.derived.${i}`, `unknown dataset "${dep}"`);
    if (d.table && (d.key === d.createdAt || d.key === d.subject) && d.key)
      at(`${p}.key`, "the key column must differ from createdAt and subject");
  }
  issues.push(...redisOverlaps(raw));
  for (const [name, s] of Object.entries(raw.stores)) {
    if (s.kind !== "fs" || s.allowSystemRoot) continue;
    const why = systemRootReason(s.root, baseDir);
    if (why) at(`stores.${name}.root`, why);
  }
  if (raw.transient?.root === "") at("transient.root", "must not be empty");
  issues.push(...redactRules(raw.redact));
  return issues;
}

/**
 * Two redis datasets of one store (or of two stores with the same url) whose patterns can match the same key. A key must belong to one dataset:
 * with `user:{subject}:*` beside `user:profile:{subject}`, erasing the subject "profile" would delete
 * `user:profile:bob` past a hold on bob, and either dataset's retention would act on the other's keys.
 */
function redisOverlaps(raw: RawConfig): string[] {
  const issues: string[] = [];
  const seen = new Map<string, [string, string][]>();
  for (const [name, d] of Object.entries(raw.datasets)) {
    const store = raw.stores[d.store];
    if (store?.kind !== "redis" || d.pattern === undefined || redisPatternProblem(d.pattern)) continue;
    // Two stores spelled with the same url (or the same reference) are one database: their datasets too.
    const db = `url ${store.url}`;
    const earlier = seen.get(db) ?? [];
    for (const [other, pattern] of earlier) {
      const key = sharedKey(pattern, d.pattern);
      if (key === undefined) continue;
      const example = /^[\x21-\x7e]+$/.test(key) ? ` (e.g. "${key}")` : "";
      issues.push(
        `datasets.${name}.pattern: matches keys that datasets.${other}.pattern matches too${example}; a key must ` +
          "belong to one dataset, or erasing or expiring one dataset's keys would bypass the other's holds: " +
          'make the literal parts differ (e.g. "user:s:{subject}:*" and "user:profile:{subject}")',
      );
      break;
    }
    seen.set(db, [...earlier, [name, d.pattern]]);
  }
  return issues;
}

/** `redact:` on its own (scan-logs checks only this section). */
export function redactRules(redact: RawConfig["redact"]): string[] {
  const issues: string[] = [];
  for (const [i, pat] of (redact?.patterns ?? []).entries()) {
    try {
      new RegExp(pat.regex);
    } catch {
      issues.push(`redact.patterns.${i}.regex: not a valid regular expression`);
    }
  }
  return issues;
}
