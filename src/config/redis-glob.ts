// Redis glob syntax (`*`, `?`, `[…]` classes with `^` and ranges, `\` escapes: what SCAN MATCH accepts), read
// by config validation (may two datasets' patterns share a key?) and by the Redis store (which keys are a
// dataset's). Here, under config, because config may not import a store driver (scripts/check-layers.mjs).

/**
 * Escapes the characters SCAN MATCH treats specially, so `s` matches only itself.
 *
 * @example
 * escapeGlob("a*b"); // "a\\*b"
 */
export function escapeGlob(s: string): string {
  return s.replace(/[*?[\]\\]/g, "\\$&");
}

/**
 * A Redis glob as the body of a JS regular expression (Redis `stringmatchlen` semantics).
 *
 * @example
 * new RegExp(`^${globToRegex("cache:[ab]*")}$`).test("cache:a1"); // true
 */
export function globToRegex(glob: string): string {
  let out = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === "*") out += "[\\s\\S]*";
    else if (c === "?") out += "[\\s\\S]";
    else if (c === "\\" && i + 1 < glob.length) out += escapeRe(glob[++i] as string);
    else if (c === "[") {
      const end = classEnd(glob, i);
      if (end < 0) out += "\\[";
      else {
        out += charClass(glob.slice(i + 1, end));
        i = end;
      }
    } else out += escapeRe(c);
  }
  return out;
}

/** The index of the `]` closing the class opened at `start`, or -1 when it stays open (then `[` is literal). */
export function classEnd(glob: string, start: number): number {
  for (let j = start + 1; j < glob.length; j++) {
    if (glob[j] === "\\") j++;
    else if (glob[j] === "]") return j;
  }
  return -1;
}

/** A Redis `[…]` class body (`^` negation, ranges, `\` escapes) as a JS regex class. */
export function charClass(body: string): string {
  let negate = false;
  let i = 0;
  if (body[0] === "^") {
    negate = true;
    i = 1;
  }
  let out = "";
  for (; i < body.length; i++) {
    let c = body[i] as string;
    if (c === "\\" && i + 1 < body.length) c = body[++i] as string;
    if (body[i + 1] === "-" && i + 2 < body.length) {
      let hi = body[i + 2] as string;
      i += 2;
      if (hi === "\\" && i + 1 < body.length) hi = body[++i] as string;
      // Redis accepts reversed ranges ([z-a]); a JS class would not.
      const [a, b] = c <= hi ? [c, hi] : [hi, c];
      out += `${escapeClass(a)}-${escapeClass(b)}`;
    } else out += escapeClass(c);
  }
  return out === "" ? (negate ? "[\\s\\S]" : "[^\\s\\S]") : `[${negate ? "^" : ""}${out}]`;
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
}

function escapeClass(c: string): string {
  return c.replace(/[\]\\^-]/g, "\\$&");
}
