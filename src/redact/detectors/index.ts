import type { Detector } from "../types.js";
import { emailDetector } from "./email.js";
import { ipv6Detector } from "./ip.js";
import { numericDetector } from "./numeric.js";
import { prefixedDetector } from "./prefixed.js";

/** Content detectors in no particular order; overlaps are settled by the scanner. */
export const BUILTIN_DETECTORS: readonly Detector[] = [prefixedDetector, emailDetector, numericDetector, ipv6Detector];

export { compileCustomPatterns } from "./custom.js";
export { fieldDetector } from "./field.js";
