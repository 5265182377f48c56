import { LetheError } from "../../core/errors.js";
import type { CustomPattern, Detector } from "../types.js";
import { regexDetector, wholeMatch } from "./regex-detector.js";

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * Turns `redact.patterns` entries into detectors. The finding type is the
 * lower-cased name and the marker its upper-cased form (`employee_id` →
 * `[EMPLOYEE_ID]`). Bad entries are a config error, raised before anything
 * is scanned or written.
 *
 * @example
 * compileCustomPatterns([{ name: "employee_id", regex: "EMP-\\d{6}" }]);
 */
export function compileCustomPatterns(patterns: readonly CustomPattern[] = []): Detector[] {
  return patterns.map((p, i) => {
    const where = `redact.patterns[${i}]`;
    if (typeof p.name !== "string" || !NAME_RE.test(p.name)) {
      throw new LetheError("CONFIG_INVALID", `${where}.name: expected an identifier like employee_id`);
    }
    let re: RegExp;
    try {
      const source = typeof p.regex === "string" ? p.regex : p.regex.source;
      const flags = new Set([...(typeof p.regex === "string" ? "" : p.regex.flags), ...(p.flags ?? ""), "g"]);
      flags.delete("y");
      re = new RegExp(source, [...flags].join(""));
    } catch (err) {
      throw new LetheError("CONFIG_INVALID", `${where}.regex: ${(err as Error).message}`);
    }
    if (re.test("")) {
      throw new LetheError("CONFIG_INVALID", `${where}.regex: must not match the empty string`);
    }
    return regexDetector(p.name.toLowerCase(), `[${p.name.toUpperCase()}]`, 50, re, wholeMatch);
  });
}
