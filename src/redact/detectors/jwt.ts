import { jwtHeaderValid } from "../validators.js";
import { type Probe, probe } from "./regex-detector.js";

/**
 * JSON Web Tokens (`header.payload.signature`, base64url). The literal `eyJ`
 * (`{"` encoded) anchors them; the header must decode to JSON naming `alg`
 * or `typ`, which rejects random dotted base64.
 */
export const jwtProbe: Probe = probe(
  "jwt",
  5,
  "(?<![\\w.-])eyJ[A-Za-z0-9_-]{2,}\\.[A-Za-z0-9_-]{2,}\\.[A-Za-z0-9_-]*",
  "",
  (m) => (jwtHeaderValid(m[0].slice(0, m[0].indexOf("."))) ? [m.index, m.index + m[0].length] : undefined),
);
