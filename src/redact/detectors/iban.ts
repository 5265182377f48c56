import { ibanValid } from "../validators.js";
import { type Probe, probe, wholeMatch } from "./regex-detector.js";

/**
 * IBANs, compact (`DE89370400440532013000`) or in groups of four. A
 * candidate must have its country's registry length and pass mod-97, so
 * upper-case ids like `AB12CDEF3456` are rejected.
 */
export const IBAN_SOURCE = "[A-Z]{2}\\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![\\w-])";

export const ibanProbe: Probe = probe("iban", 15, `(?<![\\w-])${IBAN_SOURCE}`, "", (m, text) =>
  ibanValid(m[0]) ? wholeMatch(m, text) : undefined,
);
