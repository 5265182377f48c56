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
