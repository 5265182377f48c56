/**
 * Masked excerpts for scan-logs reports: enough to recognise a finding
 * (`j***@e***.com`, `****1111`), never enough to recover it.
 *
 * @example
 * maskExcerpt("email", "jane.doe@example.com"); // "j***@e***.com"
 * maskExcerpt("card", "4111 1111 1111 1111");   // "****1111"
 */
export function maskExcerpt(type: string, raw: string): string {
  switch (type) {
    case "email":
      return maskEmail(raw);
    case "card":
      return `****${lastDigits(raw, 4)}`;
    case "ssn":
      return `***-**-**${lastDigits(raw, 2)}`;
    case "phone":
      return `***${lastDigits(raw, 2)}`;
    case "iban":
      return `${raw.slice(0, 2)}**…**${lastDigits(raw, 2)}`;
    case "ip":
      return maskIp(raw);
    case "sensitive_field":
      return "[REDACTED]";
    default:
      return maskGeneric(raw);
  }
}

function maskEmail(encoded: string): string {
  // Found inside a URL (`jane.doe%40example.org`): mask what it says, not its escapes.
  const raw = encoded.includes("%")
    ? encoded.replace(/%([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(Number.parseInt(h, 16)))
    : encoded;
  const at = raw.indexOf("@");
  const domain = raw.slice(at + 1);
  const dot = domain.lastIndexOf(".");
  return `${raw.charAt(0)}***@${domain.charAt(0)}***${domain.slice(dot)}`;
}

function maskIp(raw: string): string {
  if (raw.includes(":")) return `${raw.slice(0, raw.indexOf(":"))}:***`;
  return `${raw.slice(0, raw.indexOf("."))}.*.*.*`;
}

/** Tokens and custom matches: a short prefix (often a non-secret scheme like `ghp_`) and the length. */
function maskGeneric(raw: string): string {
  const shown = raw.length >= 16 ? 4 : raw.length >= 8 ? 2 : 0;
  return `${raw.slice(0, shown)}***(${raw.length})`;
}

function lastDigits(raw: string, n: number): string {
  const digits = raw.replace(/[^0-9A-Za-z]/g, "");
  return digits.slice(-n);
}
