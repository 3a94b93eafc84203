/**
 * Valid values from the document's JSON schemas. Random text cannot satisfy every schema (a pool name pattern, a
 * phone number a carrier would dial, an id that must exist), so named components and exact body locations take
 * hints from the fixtures; a pattern with no hint is an error, which keeps the hint table honest as the spec grows.
 */
import type { Rng } from "./prng.js";
import { refName, resolveSchema, type JsonSchema } from "./spec.js";

export type Generate = (rng: Rng) => unknown;

export interface ValueHints {
  /** By component name: PoolName, CountryCode, PhoneNumberInput, ... */
  byComponent?: Record<string, Generate>;
  /** By JSON pointer into the generated value: /appId, /participants/0/number, ... */
  byPointer?: Record<string, Generate>;
}

export interface GenerateOptions {
  /** Include every optional property (the baseline that mutations start from covers the whole schema). */
  allOptional: boolean;
}

const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

function text(rng: Rng, length: number): string {
  let s = "";
  for (let i = 0; i < length; i++) s += ALPHABET[rng.int(0, ALPHABET.length - 1)];
  return s;
}

/** Matches pointer segments the way RFC 6901 escapes them. */
export const pointerSegment = (key: string) => key.replaceAll("~", "~0").replaceAll("/", "~1");

export function validValue(
  schema: JsonSchema,
  rng: Rng,
  hints: ValueHints,
  options: GenerateOptions,
  pointer = "",
): unknown {
  const atPointer = hints.byPointer?.[pointer];
  if (atPointer) return atPointer(rng);
  if (schema.$ref) {
    const named = hints.byComponent?.[refName(schema.$ref)];
    if (named) return named(rng);
  }
  const s = resolveSchema(schema);
  if (s.const !== undefined) return s.const;
  if (s.enum) return rng.pick(s.enum);
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== "null") : s.type;
  switch (type) {
    case "object":
      return objectValue(s, rng, hints, options, pointer);
    case "array": {
      const min = s.minItems ?? 0;
      const length = rng.int(Math.max(min, 1), Math.max(min, Math.min(s.maxItems ?? 3, min + 2)));
      return Array.from({ length }, (_, i) => validValue(s.items ?? {}, rng, hints, options, `${pointer}/${i}`));
    }
    case "string":
      return stringValue(s, rng, pointer);
    case "integer": {
      const min = s.minimum ?? 1;
      return rng.int(min, Math.min(s.maximum ?? min + 100, min + 1000));
    }
    case "number":
      return rng.int(0, 1000) / 10;
    case "boolean":
      return rng.chance(0.5);
    default:
      throw new Error(`no generator for schema at ${pointer || "/"}: ${JSON.stringify(s).slice(0, 120)}`);
  }
}

function objectValue(s: JsonSchema, rng: Rng, hints: ValueHints, options: GenerateOptions, pointer: string) {
  const out: Record<string, unknown> = {};
  const props = Object.entries(s.properties ?? {});
  const required = new Set(s.required ?? []);
  for (const [name, propSchema] of props) {
    if (!required.has(name) && !options.allOptional && !rng.chance(0.5)) continue;
    out[name] = validValue(propSchema, rng, hints, options, `${pointer}/${pointerSegment(name)}`);
  }
  // A map (Metadata): a few entries with keys the schema allows.
  if (typeof s.additionalProperties === "object" && props.length === 0) {
    const count = options.allOptional ? 2 : rng.int(0, 2);
    for (let i = 0; i < count; i++) {
      const key = `k${i}_${text(rng, 4)}`;
      out[key] = validValue(s.additionalProperties, rng, hints, options, `${pointer}/${key}`);
    }
  }
  // minProperties with nothing chosen: take the first declared property.
  if (Object.keys(out).length < (s.minProperties ?? 0) && props[0]) {
    const [name, propSchema] = props[0];
    out[name] = validValue(propSchema, rng, hints, options, `${pointer}/${pointerSegment(name)}`);
  }
  return out;
}

function stringValue(s: JsonSchema, rng: Rng, pointer: string): string {
  if (s.format === "date-time") return new Date(Date.UTC(2026, 0, 1) + rng.int(0, 1e9) * 1000).toISOString();
  const min = s.minLength ?? 1;
  const max = s.maxLength ?? min + 16;
  const value = `fz${text(rng, Math.max(0, rng.int(min, Math.min(max, min + 12)) - 2))}`.slice(0, max);
  if (s.pattern && !new RegExp(s.pattern, "u").test(value)) {
    throw new Error(`a random string does not match ${s.pattern} at ${pointer}: add a hint for it`);
  }
  return value.length >= min ? value : value.padEnd(min, "z");
}

/** Raw JSON text spliced into a body where a value would go (1e309, a raw "\ud800" escape, 10,000 brackets). */
export class RawJson {
  constructor(readonly text: string) {}
}

/** JSON.stringify, except RawJson is written as-is. Iterative enough for the shapes the generators build. */
export function toJsonText(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value)) return `[${value.map(toJsonText).join(",")}]`;
  if (value !== null && typeof value === "object") {
    return `{${Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${JSON.stringify(k)}:${toJsonText(v)}`)
      .join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** Every location in a value (objects, arrays and leaves), as JSON pointers, outermost first. */
export function pointersOf(value: unknown, pointer = ""): string[] {
  const out: string[] = [];
  if (Array.isArray(value)) {
    value.forEach((v, i) => out.push(`${pointer}/${i}`, ...pointersOf(v, `${pointer}/${i}`)));
  } else if (value !== null && typeof value === "object" && !(value instanceof RawJson)) {
    for (const [k, v] of Object.entries(value)) {
      const p = `${pointer}/${pointerSegment(k)}`;
      out.push(p, ...pointersOf(v, p));
    }
  }
  return out;
}

const segmentsOf = (pointer: string) =>
  pointer
    .split("/")
    .slice(1)
    .map((s) => s.replaceAll("~1", "/").replaceAll("~0", "~"));

export function getAt(value: unknown, pointer: string): unknown {
  let current = value;
  for (const seg of segmentsOf(pointer)) current = (current as Record<string, unknown>)[seg];
  return current;
}

/** A copy of `value` with the location replaced (structuredClone keeps RawJson out, so copy by hand). */
export function setAt(value: unknown, pointer: string, replacement: unknown): unknown {
  const segs = segmentsOf(pointer);
  const copy = (node: unknown, depth: number): unknown => {
    if (depth === segs.length) return replacement;
    const seg = segs[depth]!;
    if (Array.isArray(node)) return node.map((v, i) => (String(i) === seg ? copy(v, depth + 1) : v));
    const obj = { ...(node as Record<string, unknown>) };
    obj[seg] = copy(obj[seg], depth + 1);
    return obj;
  };
  return copy(value, 0);
}

/** A copy without the location (a property removed, or an array element dropped). */
export function deleteAt(value: unknown, pointer: string): unknown {
  const segs = segmentsOf(pointer);
  const last = segs.pop()!;
  const parentPointer = segs.map((s) => `/${pointerSegment(s)}`).join("");
  const parent = getAt(value, parentPointer);
  const replaced = Array.isArray(parent)
    ? parent.filter((_, i) => String(i) !== last)
    : Object.fromEntries(Object.entries(parent as Record<string, unknown>).filter(([k]) => k !== last));
  return parentPointer === "" ? replaced : setAt(value, parentPointer, replaced);
}
