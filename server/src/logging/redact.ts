/**
 * Scrub phone numbers out of anything headed for the logs: real numbers appear in logs only masked.
 *
 * This is a heuristic over free text, so it errs towards masking: any run of 7+ digits (optional leading `+` or
 * URL-encoded `%2B`, spaces/dashes/parentheses allowed inside) that is not glued to letters is masked, keeping its
 * last four digits. Long plain integers inside strings (e.g. epoch milliseconds) get masked too; that is the price of
 * never leaking a number. What it deliberately leaves alone, because logs are useless without them:
 *   - ISO dates/timestamps (`2026-11-24T16:00:00.000Z`, `2026-11-24 16:00:00`),
 *   - UUIDs, even when a group happens to be all digits, and ids that end in one (`req_<uuid>`, `call-<uuid>`):
 *     without that, `req_022ff3ab-5712-4126-…` lost its digit-only group to the identifier rule, which consumed
 *     `req_022ff3ab` and left `5712-4126` looking like an 8-digit number (about 6.5 % of random request ids),
 *   - identifiers such as ULIDs (`ses_01J…`), hashes and other letter-digit tokens (digits glued to letters),
 *   - short numbers (ports, status codes, counts under 7 digits).
 * Fields whose value is an identifier the shape rules cannot recognise (a caller's X-Request-Id such as
 * `order-2026-1234567`) are named in VERBATIM_KEYS and kept as they are, unless the whole value is phone-shaped.
 */
import { maskNumber } from "../phone/numbers.js";

const MAX_DEPTH = 8;
const MAX_NODES = 2_000;

// One left-to-right scan with alternation: at each position the protected shapes are tried first, and a protected
// match is consumed whole, so a phone pattern can never start inside a date, UUID or identifier.
const SCAN = new RegExp(
  [
    // 1: UUID
    String.raw`([0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}(?![0-9A-Za-z_])` +
      // ISO date, optionally with time and zone
      String.raw`|\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?(?!\d)` +
      // identifiers: a word that starts with a letter or underscore (ULIDs with prefix, hashes starting with a letter),
      // with the rest of a UUID when the word ends in its first group (`req_<uuid>`: the word is `req_022ff3ab`)
      String.raw`|[A-Za-z_][0-9A-Za-z_]*(?:(?<=[0-9A-Fa-f]{8})-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}(?![0-9A-Za-z_]))?)`,
    // 2: phone-like run of 7 to 15 digits (E.164's most), not preceded or followed by a word character. The bound
    // keeps two numbers written side by side ("+919812340500 (919812340500)") two runs, each masked as a number.
    String.raw`((?<![0-9A-Za-z_])(?:\+|%2[Bb])?\(?\d(?:[ \-()]{0,2}\d){6,14}(?![0-9A-Za-z_]))`,
    // 3: a longer digit run, which may hold a number anywhere inside: masked all the same
    String.raw`((?<![0-9A-Za-z_])(?:\+|%2[Bb])?\(?\d(?:[ \-()]{0,2}\d){15,}(?![0-9A-Za-z_]))`,
  ].join("|"),
  "g",
);

function maskRun(run: string): string {
  // `%2B` is a URL-encoded "+" (phone numbers in query strings and form bodies).
  const prefix = run.startsWith("+") ? "+" : /^%2b/i.test(run) ? run.slice(0, 3) : "";
  const body = run.slice(prefix.length);
  const digits = body.replace(/\D/g, "");
  if (prefix) {
    // International form: mask exactly as the API does (`+91******0001`), keeping the country calling code.
    const masked = maskNumber(`+${digits}`);
    if (masked !== "***") return prefix + masked.slice(1);
  }
  // Otherwise star every digit but the last four, keeping separators so the text stays readable.
  let toHide = digits.length - 4;
  let out = prefix;
  for (const ch of body) {
    if (toHide > 0 && ch >= "0" && ch <= "9") {
      out += "*";
      toHide--;
    } else {
      out += ch;
    }
  }
  return out;
}

export function redactPhoneNumbers(text: string): string {
  if (typeof text !== "string" || text.length === 0) return text;
  // Fast path: fewer than 7 digits in total cannot contain a phone number.
  let count = 0;
  for (let i = 0; i < text.length && count < 7; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) count++;
  }
  if (count < 7) return text;
  return text.replace(SCAN, (match: string, _protected: string | undefined, phone: string | undefined, long: string | undefined) =>
    phone ? maskRun(phone) : long ? maskRun(long) : match,
  );
}

/**
 * Log fields that hold an identifier a customer may quote back to us, so they must be searchable exactly as issued.
 * `requestId` is ours (`req_<uuid>`) or the caller's X-Request-Id (`[A-Za-z0-9._:-]{1,128}`, any digit runs).
 */
export const VERBATIM_KEYS: ReadonlySet<string> = new Set(["requestId"]);

// Nothing but digits and phone punctuation, at least 7 digits: a value like this is a number whatever its key says
// (a caller could send their own phone number as X-Request-Id), so it is masked even in a verbatim field.
const PHONE_SHAPED = /^(?:\+|%2[Bb])?[\d ()-]*$/;
function isPhoneShaped(value: string): boolean {
  return PHONE_SHAPED.test(value) && value.replace(/\D/g, "").length >= 7;
}

/** The redacted form of one field's value: verbatim keys keep a string value unless it is phone-shaped. */
export function redactField(key: string, value: unknown, redactValue: (value: unknown) => unknown = redactDeep): unknown {
  if (typeof value === "string" && VERBATIM_KEYS.has(key) && !isPhoneShaped(value)) return value;
  return redactValue(value);
}

// A JSON string literal, escapes included, and whether a ':' follows it (then it is a key).
const JSON_STRING = /"(?:[^"\\]|\\.)*"(:?)/g;

/**
 * The scrub over a finished JSON log line: every string literal is redacted except the value of a verbatim key.
 * Only string literals: masking a bare JSON number would make the line invalid JSON.
 */
export function redactJsonLine(line: string): string {
  let verbatimValueAt = -1;
  return line.replace(JSON_STRING, (match: string, colon: string, offset: number) => {
    if (colon) {
      const key = match.slice(1, -2);
      verbatimValueAt = VERBATIM_KEYS.has(key) ? offset + match.length : -1;
      return redactPhoneNumbers(match);
    }
    if (offset === verbatimValueAt) {
      let value: unknown;
      try {
        value = JSON.parse(match);
      } catch {
        value = undefined;
      }
      if (typeof value === "string" && !isPhoneShaped(value)) return match;
    }
    return redactPhoneNumbers(match);
  });
}

interface WalkState {
  /** Objects on the current path (not all visited ones): an object referenced twice is printed twice, a cycle once. */
  seen: Set<object>;
  /** Nodes left to visit: bounds the cost of logging something huge (an IncomingMessage, a 100k-element array). */
  budget: number;
}

/** An Error as a plain, redacted object: message, stack and own fields survive, phone numbers do not. */
function errorToObject(err: Error, state: WalkState, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {
    type: err.constructor?.name ?? "Error",
    message: redactPhoneNumbers(String(err.message)),
  };
  if (typeof err.stack === "string") out.stack = redactPhoneNumbers(err.stack);
  for (const key of Object.keys(err)) {
    out[redactPhoneNumbers(key)] = walk((err as unknown as Record<string, unknown>)[key], state, depth + 1);
  }
  if (err.cause !== undefined) out.cause = walk(err.cause, state, depth + 1);
  if (err instanceof AggregateError) out.errors = walk(err.errors, state, depth + 1);
  return out;
}

function walk(value: unknown, state: WalkState, depth: number): unknown {
  if (typeof value === "string") return redactPhoneNumbers(value);
  if (value === null || typeof value !== "object") return value; // numbers, booleans, bigint, undefined, functions
  if (depth >= MAX_DEPTH) return "[MaxDepth]";
  if (state.seen.has(value)) return "[Circular]";
  if (value instanceof Date) return value;
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return `[Binary ${(value as ArrayBufferView).byteLength} bytes]`;
  if (--state.budget < 0) return "[Truncated]";

  state.seen.add(value);
  try {
    if (value instanceof Error) return errorToObject(value, state, depth);
    if (Array.isArray(value)) return value.map((item) => walk(item, state, depth + 1));
    if (value instanceof Map) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of value) out[redactPhoneNumbers(String(k))] = walk(v, state, depth + 1);
      return out;
    }
    if (value instanceof Set) return [...value].map((item) => walk(item, state, depth + 1));
    const proto = Object.getPrototypeOf(value) as unknown;
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (proto !== Object.prototype && proto !== null && typeof toJSON === "function") {
      // URL, Koa request/response and similar know their own JSON form; redact that form.
      return walk(toJSON.call(value), state, depth + 1);
    }
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      out[redactPhoneNumbers(key)] = redactField(key, (value as Record<string, unknown>)[key], (v) => walk(v, state, depth + 1));
    }
    return out;
  } finally {
    state.seen.delete(value);
  }
}

/**
 * A redacted copy of `value`: strings (and object keys) anywhere inside are scrubbed, errors become plain objects
 * with redacted message and stack, cycles become "[Circular]", depth and total size are capped. The input is never
 * modified.
 */
export function redactDeep(value: unknown): unknown {
  return walk(value, { seen: new Set<object>(), budget: MAX_NODES }, 0);
}
