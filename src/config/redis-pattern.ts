const SUBJECT = "{subject}";

/**
 * What is wrong with a redis dataset's key pattern, or undefined. The pattern
 * is a Redis glob (`*`, `?`, `[…]`, `\` escapes) with at most one
 * `{subject}`; a pattern that is only wildcards would own every key of the
 * database, so it must name at least one literal character. Every key must
 * be attributable to one subject only (a hold on one subject must never be
 * bypassed by erasing another): `{subject}` ends the pattern or is followed
 * by a literal character, and no `*` comes before it.
 *
 * @example
 * redisPatternProblem("cache:prompt:{subject}:*"); // undefined
 * redisPatternProblem("*"); // "must contain literal characters…"
 * redisPatternProblem("u:{subject}*"); // "has a glob right after {subject}…"
 */
export function redisPatternProblem(pattern: string): string | undefined {
  const parts = pattern.split(SUBJECT);
  if (parts.length > 2) return 'may contain "{subject}" once';
  const unknown = unknownPlaceholder(pattern);
  if (unknown)
    return `has an unknown placeholder "${unknown}": the only one is {subject} (write \\{ for a literal brace)`;
  const rest = parts.join("");
  if (!/[^*?]/.test(rest.replace(/\[[^\]]*\]/g, "")))
    return 'must contain literal characters (e.g. "cache:prompt:{subject}:*"): a pattern of wildcards only owns every key';
  let depth = 0;
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i];
    if (c === "\\") i++;
    else if (c === "[") depth++;
    else if (c === "]" && depth > 0) depth--;
  }
  if (depth > 0) return 'has an unclosed "[" character class';
  if (pattern.endsWith("\\") && !pattern.endsWith("\\\\")) return 'ends with a lone "\\"';
  return parts.length === 2 ? subjectSlotProblem(parts[0] as string, parts[1] as string) : undefined;
}

/** Why `{subject}` between `before` and `after` could read one key as several subjects' keys. */
function subjectSlotProblem(before: string, after: string): string | undefined {
  if (/(^|[^\\])(\\\\)*\\$/.test(before)) return 'has a lone "\\" right before {subject}';
  if (after !== "" && "*?[".includes(after[0] as string))
    return (
      `has a glob right after {subject}: a key could be read as several subjects' keys ("u:{subject}*" reads ` +
      `"u:ab1" as subject a, ab or ab1, so erasing "a" would delete the keys of a held "ab1"); ` +
      `put a literal separator after it, e.g. "u:{subject}:*"`
    );
  if (unescapedStar(before) === undefined) return 'has {subject} inside a "[…]" character class';
  if (unescapedStar(before))
    return (
      `has a "*" before {subject}: a key could be read as several subjects' keys ("t:*:{subject}:*" reads ` +
      `"t:x:a:b:1" as subject a or b); use literal characters, "?" or "[…]" before {subject}`
    );
  return undefined;
}

/** Whether a glob has a `*` that is neither escaped nor inside a character class; undefined when a class stays open. */
function unescapedStar(glob: string): boolean | undefined {
  let star = false;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "\\") i++;
    else if (c === "*") star = true;
    else if (c === "[") {
      const end = glob.indexOf("]", i + 1);
      if (end < 0) return undefined;
      i = end;
    }
  }
  return star;
}

/** The first `{name}` other than `{subject}` (a `{Subject}` typo would silently leave the dataset without erasure). */
function unknownPlaceholder(pattern: string): string | undefined {
  for (const m of pattern.matchAll(/\{([A-Za-z_][\w.-]*)\}/g)) {
    const escaped = /(^|[^\\])(\\\\)*\\$/.test(pattern.slice(0, m.index));
    if (!escaped && m[1] !== "subject") return m[0];
  }
  return undefined;
}

/**
 * The literal character that follows `{subject}` in a valid pattern: it ends
 * the subject id in every key, so an id containing it cannot be told apart
 * from the shorter id before it. Undefined when `{subject}` ends the pattern
 * (the id is then the whole rest of the key) or is absent.
 *
 * @example
 * subjectTerminator("cache:prompt:{subject}:*"); // ":"
 * subjectTerminator("s:{{subject}}:*"); // "}"
 * subjectTerminator("fv:{subject}"); // undefined
 */
export function subjectTerminator(pattern: string): string | undefined {
  const at = pattern.indexOf(SUBJECT);
  if (at < 0) return undefined;
  const after = pattern.slice(at + SUBJECT.length);
  const literal = after.startsWith("\\") ? after.slice(1) : after;
  return literal === "" ? undefined : String.fromCodePoint(literal.codePointAt(0) as number);
}
