import { type Probe, probe } from "./regex-detector.js";

/**
 * Credentials with a recognisable shape: AWS access key ids, GitHub, Slack,
 * Stripe, OpenAI/Anthropic-style `sk-…`, Google `AIza…` and GitLab tokens.
 * `API_KEY_PREFIX` is the cheap part a trigger looks for.
 */
export const API_KEY_PREFIX =
  "(?:A(?:KIA|SIA|Iza)|gh[pousr]_|github_pat_|xox[abposr]-|xapp-|[sr]k_(?:live|test)_|sk-|glpat-)";

const API_KEY = [
  "(?<![\\w-])(?:",
  "(?:AKIA|ASIA)[A-Z0-9]{16}",
  "|gh[pousr]_[A-Za-z0-9]{36,251}",
  "|github_pat_[A-Za-z0-9_]{22,255}",
  "|xox[abposr]-[A-Za-z0-9-]{10,250}",
  "|xapp-[A-Za-z0-9-]{10,250}",
  "|[sr]k_(?:live|test)_[A-Za-z0-9]{16,247}",
  "|sk-[A-Za-z0-9_-]{20,250}",
  "|AIza[A-Za-z0-9_-]{35}",
  "|glpat-[A-Za-z0-9_-]{20,64}",
  ")(?![\\w-])",
].join("");

export const apiKeyProbe: Probe = probe("api_key", 10, API_KEY, "", (m) => [m.index, m.index + m[0].length]);

/** What a trigger looks for before a `Bearer`/`Basic` credential. */
export const BEARER_PREFIX = "\\b(?:[Bb]earer|BEARER|[Bb]asic|BASIC)[ \\t]";

/**
 * Real credentials are random; prose after "Bearer" is not. Require a digit
 * or a base64/url symbol, or a long mixed-case run.
 */
function looksRandom(token: string): boolean {
  // A hyphen alone does not make a word random ("token-expired").
  if (/[0-9._~+/=]/.test(token)) return true;
  return token.length >= 20 && /[a-z]/.test(token) && /[A-Z]/.test(token);
}

/** `Bearer <token>` / `Basic <credentials>`: the scheme stays, the credential goes. */
export const bearerProbe: Probe = probe(
  "token",
  15,
  "\\b(?:bearer|basic)[ \\t]+([A-Za-z0-9._~+/-]{8,}=*)",
  "i",
  (m) => {
    const token = m[1] ?? "";
    if (!looksRandom(token)) return undefined;
    const end = m.index + m[0].length;
    // `token_type=Bearer expires_in=3600`: what follows "Bearer" is the next key, not a credential.
    const next = m.input.charAt(end);
    if (token.endsWith("=") && next !== "" && /[^\s=,;]/.test(next)) {
      // A value right after the "=": a key, unless the "key" looks like base64 before a quote.
      const name = token.slice(0, -1);
      const keyLike = /^[A-Za-z][A-Za-z0-9_.-]*$/.test(name) && (name.includes("_") || name === name.toLowerCase());
      if (!/["']/.test(next) || keyLike) return undefined;
    }
    return [end - token.length, end];
  },
);
