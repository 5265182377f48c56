import { IBAN_SOURCE, ibanProbe } from "./iban.js";
import { jwtProbe } from "./jwt.js";
import { triggeredDetector } from "./regex-detector.js";
import { API_KEY_PREFIX, apiKeyProbe, BEARER_PREFIX, bearerProbe } from "./token.js";

/**
 * Everything recognisable by how it starts (API key prefixes, `eyJ` for
 * JWTs, `Bearer `, an IBAN country code and check digits) shares one trigger.
 */
const TRIGGER = new RegExp(`${API_KEY_PREFIX}|eyJ|${BEARER_PREFIX}|(?<![\\w-])${IBAN_SOURCE}`, "g");

export const prefixedDetector = triggeredDetector(
  { jwt: "[JWT]", api_key: "[API_KEY]", token: "[TOKEN]", iban: "[IBAN]" },
  TRIGGER,
  [jwtProbe, apiKeyProbe, bearerProbe, ibanProbe],
);
