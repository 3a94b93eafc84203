/**
 * Phone number normalisation and masking.
 *
 * Everything stored, indexed (blind index) or compared is E.164, so the same person typed as `098888 00001`, sent by
 * the carrier as `919888800001`, or given by a tenant as `+91 98888-00001` is one value.
 *
 * Validity decision: a number is accepted only when libphonenumber's `max` metadata says it is *valid* (a real,
 * assigned range for its country), not merely *possible* (right length). We checked the numbers used in test setups
 * and examples (`+919000000001`, `+919888800001`, `+14155551234`) and `max` accepts them as valid, so there is no
 * need to weaken validation; strict validation turns a typo into a 422 instead of a session nobody can call. What is
 * rejected: ranges reserved for fiction (`+1 555 01xx`, UK `+44 7700 900xxx`) and ranges newer than the bundled
 * metadata (kept current by upgrading libphonenumber-js).
 */
import { parsePhoneNumberFromString, isSupportedCountry, validatePhoneNumberLength } from "libphonenumber-js/max";
import type { CountryCode, PhoneNumber } from "libphonenumber-js/max";

// Formatting people and carriers put inside numbers. Letters (vanity numbers, "ext.") are not accepted: a masked
// call can neither dial an extension nor should it guess at letters.
const FORMATTING = /[\s\-().\/\u00a0]/g;

function validE164(text: string, country: CountryCode | undefined): string | null {
  const parsed: PhoneNumber | undefined = parsePhoneNumberFromString(text, country);
  return parsed?.isValid() ? parsed.number : null;
}

/**
 * Normalise user or carrier input to E.164, or `null` when it is not a valid phone number.
 *
 * `defaultCountry` (ISO 3166 alpha-2, e.g. "IN") interprets national formats; an unknown country only disables them.
 */
export function normalizeNumber(input: string, defaultCountry: string): string | null {
  if (typeof input !== "string" || input.length > 64) return null;
  const compact = input.trim().replace(FORMATTING, "");
  const upper = typeof defaultCountry === "string" ? defaultCountry.toUpperCase() : "";
  const country = isSupportedCountry(upper) ? upper : undefined;

  if (/^\+\d{4,17}$/.test(compact)) return validE164(compact, undefined);
  if (!/^\d{4,20}$/.test(compact)) return null;
  if (!country) return validE164(`+${compact}`, undefined);

  // Carriers (Vobiz included) often send the international form without "+": `919888800001`. When the digits are
  // too long to be a national number of the default country, read them as international first. Otherwise national
  // first: `9888800001` is an Indian mobile, not `+98 88800001` in Iran. libphonenumber's national parse already
  // handles a national prefix (`0…`), an international prefix (`00…`, `011…`), and a leading country code that
  // makes the rest valid (`91…` in India), so the second attempt only matters for numbers of another country.
  // A leading 0 is never a country code, so such input is only ever national.
  const tooLongForNational = validatePhoneNumberLength(compact, country) === "TOO_LONG";
  const attempts: Array<[string, CountryCode | undefined]> = tooLongForNational
    ? [[`+${compact}`, undefined], [compact, country]]
    : [[compact, country], [`+${compact}`, undefined]];
  for (const [text, c] of attempts) {
    if (text.startsWith("+0")) continue;
    const e164 = validE164(text, c);
    if (e164) return e164;
  }
  return null;
}

const E164_SHAPE = /^\+[1-9]\d{6,14}$/;

/**
 * For matching carrier-sent numbers against stored ones: input already in E.164 is taken as it is (an invalid
 * number then simply matches no session), anything else goes through normalizeNumber. On the answer path this
 * skips libphonenumber (~30 µs a number) for the usual form while staying exact: stored numbers are E.164.
 */
export function normalizeForLookup(input: string, defaultCountry: string): string | null {
  const trimmed = typeof input === "string" ? input.trim() : "";
  return E164_SHAPE.test(trimmed) ? trimmed : normalizeNumber(trimmed, defaultCountry);
}

/**
 * `+919888800001` → `+91******0001`: keep the country calling code (useful in support: "which country?") and the
 * last four digits (what people recognise), star the rest, same length. Never throws; anything that is not an E.164
 * number with at least one digit to hide comes back as `***`, so a bug upstream can't turn masking into echoing.
 */
export function maskNumber(e164: string): string {
  try {
    if (typeof e164 !== "string" || !/^\+[1-9]\d{5,16}$/.test(e164)) return "***";
    const callingCode = parsePhoneNumberFromString(e164)?.countryCallingCode;
    if (!callingCode) return "***";
    const hidden = e164.length - 1 - callingCode.length - 4;
    if (hidden < 1) return "***";
    return `+${callingCode}${"*".repeat(hidden)}${e164.slice(-4)}`;
  } catch {
    return "***";
  }
}
