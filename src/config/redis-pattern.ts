/**
 * What is wrong with a redis dataset's key pattern, or undefined. The pattern
 * is a Redis glob (`*`, `?`, `[…]`, `\` escapes) with at most one
 * `{subject}`; a pattern that is only wildcards would own every key of the
 * database, so it must name at least one literal character.
 *
 * @example
 * redisPatternProblem("cache:prompt:{subject}:*"); // undefined
 * redisPatternProblem("*"); // "must contain literal characters…"
 */
export function redisPatternProblem(pattern: string): string | undefined {
  const parts = pattern.split("{subject}");
  if (parts.length > 2) return 'may contain "{subject}" once';
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
  return undefined;
}
