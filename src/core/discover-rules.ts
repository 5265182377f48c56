/**
 * What personal data looks like, by column name and by value. Names are
 * normalized first (`userId`, `User-ID` and `user_id` are one name), then
 * matched against the kinds below; values are sampled rows, judged by share.
 *
 * @example
 * personalName("customerEmail"); // "an email address"
 * valueKind(["a@b.io", "c@d.org", "n/a"]); // { kind: "email addresses", hits: 2, of: 3 }
 */
const NAME_RULES: [RegExp, string][] = [
  [/(^|_)e_?mail(_|$)|(^|_)e_?mail_?addr/, "an email address"],
  [/(^|_)(phone|mobile|msisdn|telephone|tel|cell|fax)(_?(no|nr|num|number))?$|phone/, "a phone number"],
  [/(^|_)ip(_?addr(ess)?|v4|v6)?$|remote_addr|client_ip/, "an IP address"],
  [
    /(^|_)(ssn|social_security(_number)?|national_id|passport(_no|_number)?|tax_id|nino|iban)$/,
    "a national identifier",
  ],
  [
    /(^|_)(user|customer|client|patient|member|account|person|subject|employee|student|buyer|guest|visitor|citizen|applicant)(_?(id|uuid|key|ref|no|number|name))?$/,
    "a subject identifier",
  ],
  [/(^|_)(username|login|(first|last|full|given|family|middle|display|maiden)_?name|surname)$/, "a person's name"],
  [/(^|_)(dob|birth_?date|date_of_birth|birthday)$/, "a date of birth"],
  [/(^|_)(address|street|postcode|postal_?code|zip_?code|zip)$/, "a postal address"],
  [/(^|_)(device_id|advertising_id|idfa|gaid|android_id|imei)$/, "a device identifier"],
];

/** `userID`, `User-Id`, `user id` → `user_id`. */
export function normalizeName(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1_$2")
    .replace(/[^A-Za-z0-9]+/g, "_")
    .toLowerCase();
}

/** The kind of personal data a column name suggests, or undefined. */
export function personalName(name: string): string | undefined {
  const n = normalizeName(name);
  for (const [re, what] of NAME_RULES) if (re.test(n)) return what;
  return undefined;
}

const EMAIL = /^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$/;
const PHONE = /^\+?[0-9][0-9 ().-]{6,20}[0-9]$/;
const IPV4 = /^((25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(25[0-5]|2[0-4]\d|1?\d?\d)$/;

function isPhone(v: string): boolean {
  if (!PHONE.test(v)) return false;
  const digits = v.replace(/\D/g, "");
  // A bare run of digits is an id or a timestamp far more often than a phone number.
  if (digits === v) return v.startsWith("0") && digits.length >= 9 && digits.length <= 13;
  return digits.length >= 8 && digits.length <= 15 && !/^\d{4}-\d{2}-\d{2}/.test(v);
}

const VALUE_KINDS: [string, (v: string) => boolean][] = [
  ["email addresses", (v) => EMAIL.test(v.trim())],
  ["phone numbers", (v) => isPhone(v.trim())],
  ["IP addresses", (v) => IPV4.test(v.trim())],
];

/** Least samples and share of them that must match before a column is flagged by its values. */
export const MIN_SAMPLES = 3;
export const MIN_SHARE = 0.5;

/** The kind most sampled values look like, when enough of them do. */
export function valueKind(samples: string[]): { kind: string; hits: number; of: number } | undefined {
  if (samples.length < MIN_SAMPLES) return undefined;
  for (const [kind, test] of VALUE_KINDS) {
    const hits = samples.filter(test).length;
    if (hits >= MIN_SAMPLES && hits / samples.length >= MIN_SHARE) return { kind, hits, of: samples.length };
  }
  return undefined;
}
