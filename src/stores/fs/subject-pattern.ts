/**
 * `subjectFromPath: "users/{subject}/**"` → a function that extracts the
 * subject from an item's relative path or object key, and a prefix that
 * lists only one subject's items.
 *
 * @example
 * subjectPattern("users/{subject}/**").extract("users/u42/a.png"); // "u42"
 */
export interface SubjectPattern {
  extract(path: string): string | undefined;
  /** The literal path prefix of one subject's items (for prefix listing). */
  prefixFor(subject: string): string;
}

function escapeRe(s: string): string {
  return s.replace(/[.+^${}()|[\]\\?]/g, "\\$&");
}

export function subjectPattern(pattern: string): SubjectPattern {
  const parts = pattern.split("{subject}");
  const toRe = (s: string) =>
    escapeRe(s)
      .replace(/\*\*\/?/g, "\uE000")
      .replace(/\*/g, "[^/]*")
      .replace(/\uE000/g, ".*");
  const re = new RegExp(`^${toRe(parts[0] ?? "")}([^/]+)${toRe(parts.slice(1).join("{subject}"))}$`);
  const literalPrefix = (parts[0] ?? "").split("*")[0] ?? "";
  return {
    extract(path) {
      const m = re.exec(path);
      return m ? m[1] : undefined;
    },
    prefixFor(subject) {
      return (parts[0] ?? "").includes("*") ? literalPrefix : `${parts[0] ?? ""}${subject}`;
    },
  };
}
