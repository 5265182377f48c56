// A first.last name (`john.smith`, `jane.o-neil`): letters on both sides of a dot. An identifier: a long run of
// hex or base64-ish characters mixing letters and digits (`a1b2c3d4e5`, a UUID, a token).
const NAME = /^[\p{L}'-]{2,}(\.[\p{L}'-]{1,})+$/u;
const IDENTIFIER = /^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9_-]{12,}$/;

/**
 * One segment of a path or key as it appears in a group's shape: never a
 * value. Detector findings become their markers (`[EMAIL]`), digit runs `#`,
 * and a segment that looks like a person's name or an identifier becomes
 * `*`, so `notes:john.smith:a` and `notes:jane.doe:a` are one shape
 * `notes:*:*` instead of a list of people.
 *
 * @example
 * shapeSegment("john.smith", (t) => t); // "*"
 * shapeSegment("2026-01", (t) => t);    // "#-#"
 */
export function shapeSegment(segment: string, mask: (t: string) => string): string {
  if (NAME.test(segment) || IDENTIFIER.test(segment)) return "*";
  return mask(segment).replace(/\d+/g, "#");
}

/** Distinct shapes one segment may take after the same leading segments before it is collapsed to `*`. */
export const MAX_SEGMENT_SHAPES = 32;

/** One key or path on its way to a group: its shaped segments (collapsed in place) beside the raw ones. */
export interface ShapedName {
  /** Names are collapsed only among names of the same scope (the dataset owning them, or none). */
  scope: string;
  shape: string[];
  raw: string[];
}

/**
 * Keeps a keyspace or a file tree to a bounded number of shapes. Left to right, the names that agree on their
 * scope, length and (already collapsed) leading segments are looked at together: when one segment takes more
 * than `max` distinct shapes among them (`cache:prompt:<id>:v1` with short ids `ab12`, `x9k2`… that
 * {@link shapeSegment} cannot tell from words), it becomes `*` (a `{subject}` stays).
 *
 * @example
 * const names = keys.map((k) => ({ scope: "", shape: k.split(":").map(shape), raw: k.split(":") }));
 * collapseShapes(names); // names[0].shape: ["cache", "prompt", "*", "v#"]
 */
export function collapseShapes(names: ShapedName[], max = MAX_SEGMENT_SHAPES): void {
  const longest = names.reduce((n, r) => Math.max(n, r.shape.length), 0);
  for (let i = 0; i < longest; i++) {
    const slots = new Map<string, { shapes: Set<string>; rows: ShapedName[] }>();
    for (const r of names) {
      if (r.shape.length <= i) continue;
      const ctx = `${r.scope}\0${r.shape.length}\0${r.shape.slice(0, i).join("\0")}`;
      const slot = slots.get(ctx) ?? { shapes: new Set<string>(), rows: [] };
      slots.set(ctx, slot);
      slot.shapes.add(r.shape[i] as string);
      slot.rows.push(r);
    }
    for (const slot of slots.values())
      if (slot.shapes.size > max) for (const r of slot.rows) if (r.shape[i] !== "{subject}") r.shape[i] = "*";
  }
}

/**
 * For one group (names of one shape): how many distinct values each `*` segment stands for, where more than
 * one, so `cache:prompt:*:*` can say "5000 distinct values at segment 3". Counts only, never a value.
 *
 * @example
 * starCounts(group); // [{ segment: 3, values: 5000 }]
 */
export function starCounts(group: readonly ShapedName[]): { segment: number; values: number }[] {
  const first = group[0];
  if (!first) return [];
  const out: { segment: number; values: number }[] = [];
  first.shape.forEach((s, i) => {
    if (s !== "*") return;
    const values = new Set(group.map((r) => r.raw[i])).size;
    if (values > 1) out.push({ segment: i + 1, values });
  });
  return out;
}
