import { ssnValid } from "../validators.js";
import { type Probe, probe, wholeMatch } from "./regex-detector.js";

/**
 * US Social Security numbers written `123-45-6789` or `123 45 6789` (same
 * separator twice). Bare nine-digit runs are left alone: in logs they are far
 * more often ids than SSNs; a `ssn` key catches those instead.
 */
export const SSN_SOURCE = "(\\d{3})(?<ssnSep>[- ])(\\d{2})\\k<ssnSep>(\\d{4})(?![\\w]|[.-]\\d)";

export const ssnProbe: Probe = probe("ssn", 25, `(?<![\\w.-])${SSN_SOURCE}`, "", (m, text) =>
  ssnValid(m[1] ?? "", m[3] ?? "", m[4] ?? "") ? wholeMatch(m, text) : undefined,
);
