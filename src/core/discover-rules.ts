/**
 * What personal data looks like, by column name and by value. Names are
 * normalized first (`userId`, `User-ID` and `user_id` are one name), then
 * matched against the kinds below. Values are judged by the redact detectors
 * (discover-values.ts).
 *
 * @example
 * personalName("customerEmail"); // "an email address"
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
