/**
 * Scrub phone numbers out of anything headed for the logs (design §3: real numbers appear in logs only masked).
 *
 * This is a heuristic over free text, so it errs towards masking: any run of 7+ digits (optional leading `+` or
 * URL-encoded `%2B`, spaces/dashes/parentheses allowed inside) that is not glued to letters is masked, keeping its
 * last four digits. Long plain integers inside strings (e.g. epoch milliseconds) get masked too; that is the price of
 * never leaking a number. What it deliberately leaves alone, because logs are useless without them:
 *   - ISO dates/timestamps (`2026-11-24T16:00:00.000Z`, `2026-11-24 16:00:00`),
 *   - UUIDs, even when a group happens to be all digits,
 *   - identifiers such as ULIDs (`ses_01J…`), hashes and other letter-digit tokens (digits glued to letters),
 *   - short numbers (ports, status codes, counts under 7 digits).
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
      // identifiers: a word that starts with a letter or underscore (ULIDs with prefix, hashes starting with a letter)
      String.raw`|[A-Za-z_][0-9A-Za-z_]*)`,
    // 2: phone-like run, not preceded or followed by a word character
    String.raw`((?<![0-9A-Za-z_])(?:\+|%2[Bb])?\(?\d(?:[ \-()]{0,2}\d){6,}(?![0-9A-Za-z_]))`,
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
  return text.replace(SCAN, (match: string, _protected: string | undefined, phone: string | undefined) =>
    phone ? maskRun(phone) : match,
  );
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
      out[redactPhoneNumbers(key)] = walk((value as Record<string, unknown>)[key], state, depth + 1);
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
