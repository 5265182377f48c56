import { isIPv6 } from "node:net";
import { codeAt, isAlnum, isWord } from "../chars.js";
import type { Detector, Span } from "../types.js";
import { type Probe, probe, wholeMatch } from "./regex-detector.js";

const OCTET = "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
export const IPV4_SOURCE = `(?:${OCTET}\\.){3}${OCTET}(?![\\w]|\\.\\d|[-+][A-Za-z0-9])`;

/** Words that make a dotted quad a version (`version 10.2.0.1`, `build=1.0.0.7`). */
const VERSION_CONTEXT = /(?:version|ver|release|build|firmware|fw|sdk|rev)["']?[ \t]*[:=]?[ \t]*["']?$/i;

/**
 * IPv4 addresses. Dotted quads that are versions are excluded: preceded by a
 * version word, by `Product/` (user agents: `Chrome/120.0.0.0`), followed by
 * a pre-release tag (`1.2.3.4-beta`), or made of single digits only
 * (`1.2.3.4`, and public resolvers such as `8.8.8.8`, which identify no one).
 */
export const ipv4Probe: Probe = probe("ip", 40, `(?<![\\w.])${IPV4_SOURCE}`, "", (m, text) => {
  if (m[0].length === 7) return undefined;
  if (codeAt(text, m.index - 1) === 47 && isAlnum(codeAt(text, m.index - 2))) return undefined;
  if (VERSION_CONTEXT.test(text.slice(Math.max(0, m.index - 24), m.index))) return undefined;
  return wholeMatch(m, text);
});

/**
 * IPv6 is anchored on what every address has and times and MACs lack: a
 * `::`, or three hex groups in a row (`:a:b:`). The region around the anchor
 * is then widened by hand and `net.isIPv6` decides, so `12:34:56`, MACs (six
 * groups, no `::`) and `std::string` (word before the colons) are rejected.
 */
const IPV6_ANCHOR = /::|:[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{1,4}:/g;

function isHexOrColon(c: number): boolean {
  return (c >= 48 && c <= 58) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

export const ipv6Detector: Detector = {
  markers: { ip: "[IP]" },
  scan(text: string, out: Span[]): void {
    IPV6_ANCHOR.lastIndex = 0;
    for (let m = IPV6_ANCHOR.exec(text); m !== null; m = IPV6_ANCHOR.exec(text)) {
      let start = m.index;
      while (start > 0 && isHexOrColon(text.charCodeAt(start - 1))) start--;
      let end = m.index + m[0].length;
      while (end < text.length && (isHexOrColon(text.charCodeAt(end)) || text.charCodeAt(end) === 46)) end++;
      while (end > start && text.charCodeAt(end - 1) === 46) end--;
      IPV6_ANCHOR.lastIndex = Math.max(end, IPV6_ANCHOR.lastIndex);
      const before = codeAt(text, start - 1);
      if (isWord(before) || before === 46 || isWord(codeAt(text, end))) continue;
      const s = text.slice(start, end);
      if (s.length < 3 || !/[0-9A-Fa-f]/.test(s) || !isIPv6(s)) continue;
      out.push({ start, end, type: "ip", priority: 40 });
    }
  },
};
