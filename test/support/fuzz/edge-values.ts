/**
 * The hostile values, in one place. Each carries its class name (what failures are deduplicated on) and whether the
 * value holds a NUL or a lone surrogate, which the oracle treats specially.
 */
import { RawJson } from "./schema-values.js";

export interface EdgeValue {
  kind: string;
  value: unknown;
  nul?: boolean;
  loneSurrogate?: boolean;
  /** Makes the whole body larger than the server's 64 kB limit. */
  overLimit?: boolean;
}

/** Values of another JSON type than the property's. */
export const TYPE_SWAPS: EdgeValue[] = [
  { kind: "type ← number", value: 42 },
  { kind: "type ← string", value: "fuzz" },
  { kind: "type ← array", value: ["fuzz"] },
  { kind: "type ← object", value: { fuzz: 1 } },
  { kind: "type ← null", value: null },
  { kind: "type ← boolean", value: true },
];

export const jsTypeOf = (v: unknown) => (v === null ? "null" : Array.isArray(v) ? "array" : typeof v);
export const swapType = (kind: string) => kind.slice("type ← ".length);

export const NUMBER_EDGES: EdgeValue[] = [
  { kind: "number ← negative", value: -1 },
  { kind: "number ← zero", value: 0 },
  { kind: "number ← negative zero (raw -0)", value: new RawJson("-0") },
  { kind: "number ← fractional", value: 1.5 },
  { kind: "number ← 2^31", value: 2 ** 31 },
  { kind: "number ← beyond 2^53", value: new RawJson("9007199254740993") },
  { kind: "number ← 30 digits (raw)", value: new RawJson("123456789012345678901234567890") },
  { kind: "number ← 1e309 (raw, Infinity)", value: new RawJson("1e309") },
  { kind: "number ← -1e309 (raw)", value: new RawJson("-1e309") },
  { kind: "number ← 1e-400 (raw, underflow)", value: new RawJson("1e-400") },
  { kind: "number ← exponent form of an integer (raw 1e1)", value: new RawJson("1e1") },
  { kind: "number ← numeric string", value: "30" },
];

const KB = 1024;

export const STRING_EDGES: EdgeValue[] = [
  { kind: "string ← empty", value: "" },
  { kind: "string ← whitespace only", value: "   " },
  { kind: "string ← 1,000 chars", value: "x".repeat(1000) },
  { kind: "string ← 60 kB (under the body limit)", value: "x".repeat(60 * KB) },
  { kind: "string ← 100 kB+ (over the body limit)", value: "x".repeat(100 * KB + 7), overLimit: true },
  { kind: "string ← NUL inside", value: "fuzz\u0000fuzz", nul: true },
  { kind: "string ← only NUL", value: "\u0000", nul: true },
  { kind: "string ← lone high surrogate (raw \\ud800)", value: new RawJson('"fuzz\\ud800"'), loneSurrogate: true },
  { kind: "string ← lone low surrogate (raw \\udc00)", value: new RawJson('"\\udc00fuzz"'), loneSurrogate: true },
  { kind: "string ← control characters", value: "a\u0001b\u001fc\u007fd\u0085e\u001b[31m" },
  { kind: "string ← tab/CR/LF", value: "a\tb\r\nc" },
  { kind: "string ← RTL override", value: "\u202efuzz\u202c\u2067x\u2069" },
  { kind: "string ← zero-width characters", value: "f\u200bu\u200dz\ufeffz\u2060" },
  { kind: "string ← combining marks", value: "e\u0301\u0301\u0301\u0301" },
  { kind: "string ← astral (emoji)", value: "📞🔒𝕏" },
  { kind: "string ← noncharacters", value: "\uffff\ufffe" },
  { kind: "string ← SQL-looking", value: "'; DROP TABLE sessions; --" },
  { kind: "string ← percent-encoded NUL text", value: "%00" },
];

/** Object-shaped edge values (a property that is an object or a map). */
export const OBJECT_EDGES: EdgeValue[] = [
  { kind: "object ← empty", value: {} },
  { kind: "object ← key with NUL", value: { "fu\u0000zz": "x" }, nul: true },
  { kind: "object ← key with a lone surrogate (raw)", value: new RawJson('{"fu\\ud800zz":"x"}'), loneSurrogate: true },
  { kind: "object ← empty key", value: { "": "x" } },
  { kind: "object ← 65-char key", value: { ["k".repeat(65)]: "x" } },
  { kind: "object ← 51 keys", value: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, "v"])) },
  { kind: "object ← __proto__ key (raw)", value: new RawJson('{"__proto__":{"polluted":"yes"}}') },
  { kind: "object ← nested object value", value: { k: { nested: "x" } } },
];

export const ARRAY_EDGES: EdgeValue[] = [
  { kind: "array ← empty", value: [] },
  { kind: "array ← 1,001 items", value: Array.from({ length: 1001 }, (_, i) => `+9190${String(i).padStart(8, "0")}`) },
  { kind: "array ← nulls", value: [null, null] },
  { kind: "array ← nested arrays", value: [[["x"]]] },
];

/** Deep nesting, as raw text (a recursive serializer or parser is exactly what is being probed). */
export const deepArray = (depth: number) => new RawJson("[".repeat(depth) + "]".repeat(depth));
export const deepObject = (depth: number) => new RawJson('{"a":'.repeat(depth) + "1" + "}".repeat(depth));

/**
 * Text for query strings, form fields and path segments, already percent-encoded (or deliberately not).
 * `nul` marks what decodes to a NUL.
 */
export interface EncodedEdge {
  kind: string;
  text: string;
  nul?: boolean;
  /** Decodes to control characters (no carrier field holds one). */
  control?: boolean;
  /** Longer than any value a carrier sends. */
  overLong?: boolean;
}

export const ENCODED_TEXT_EDGES: EncodedEdge[] = [
  { kind: "text ← empty", text: "" },
  { kind: "text ← %00", text: "%00", nul: true },
  { kind: "text ← NUL inside (a%00b)", text: "fuzz%00fuzz", nul: true },
  { kind: "text ← encoded lone surrogate (%ED%A0%80)", text: "fuzz%ED%A0%80" },
  { kind: "text ← overlong NUL (%C0%80)", text: "%C0%80" },
  { kind: "text ← invalid byte (%FF)", text: "%FF" },
  { kind: "text ← malformed escape (%ZZ)", text: "fuzz%ZZ%" },
  { kind: "text ← control characters", text: "a%01b%1Fc%7F", control: true },
  { kind: "text ← RTL override", text: encodeURIComponent("\u202efuzz\u202c") },
  { kind: "text ← zero-width", text: encodeURIComponent("f\u200bz\ufeff") },
  { kind: "text ← 1,000 chars", text: "x".repeat(1000) },
  { kind: "text ← 8 kB", text: "x".repeat(8 * KB), overLong: true },
  { kind: "text ← plus and spaces", text: "a+b%20c" },
];
