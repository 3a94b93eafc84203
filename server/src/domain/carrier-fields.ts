/**
 * The carrier's form fields: which ones the service reads, what makes one unusable, and what each means. Pure, so
 * every rule is unit-tested on its own.
 *
 * Validation happens at the edge, before anything is looked up or written: a field no carrier would send (a NUL or
 * other control character, a lone UTF-16 surrogate, an over-long value) is bad input, answered deliberately, and
 * can never reach a Postgres row where it would fail a write.
 */
import { CALL_STATUS_VALUES, SCHEMA_PROPERTIES } from "@maskline/openapi/constants";
import type { components } from "@maskline/openapi/schema";

export type CallStatus = components["schemas"]["CallStatus"];
export type CallDirection = components["schemas"]["CallDirection"];

/**
 * The fields the service reads: the carrier's protocol as the spec documents it (components.schemas.VobizCallback).
 * Anything else the carrier sends is accepted and ignored (never stored).
 */
export const CARRIER_FIELD_NAMES = SCHEMA_PROPERTIES.VobizCallback;
export type CarrierFieldName = (typeof CARRIER_FIELD_NAMES)[number];
export type CarrierFields = Readonly<Partial<Record<CarrierFieldName, string>>>;

/** Longer than any carrier value we read (CallUUIDs are 36, causes a few dozen characters). */
export const MAX_FIELD_LENGTH = 256;
/** A recording's URL at the carrier (signed storage URLs run long); read, never fetched from this field. */
export const MAX_URL_FIELD_LENGTH = 2048;
/** Longer than any carrier's call id; a longer one is not a call we could have answered. */
export const MAX_CALL_UUID_LENGTH = 128;

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

export interface FieldProblem {
  field: CarrierFieldName;
  message: string;
}

/**
 * Picks the known fields out of a parsed form or query (repeated fields take their first value) and reports every
 * one that cannot be a carrier's value. Problems name the field, never its content.
 */
export function readCarrierFields(source: unknown): { fields: CarrierFields; problems: FieldProblem[] } {
  const fields: Partial<Record<CarrierFieldName, string>> = {};
  const problems: FieldProblem[] = [];
  if (source === null || typeof source !== "object") return { fields, problems };
  const record = source as Record<string, unknown>;
  for (const name of CARRIER_FIELD_NAMES) {
    if (!Object.prototype.hasOwnProperty.call(record, name)) continue;
    const raw = record[name];
    const value = Array.isArray(raw) ? raw[0] : raw;
    if (typeof value !== "string") continue;
    const max = name === "CallUUID" ? MAX_CALL_UUID_LENGTH : name === "RecordUrl" ? MAX_URL_FIELD_LENGTH : MAX_FIELD_LENGTH;
    if (value.length > max) problems.push({ field: name, message: `is longer than ${max} characters` });
    else if (!value.isWellFormed()) problems.push({ field: name, message: "is not well-formed text" });
    else if (CONTROL.test(value)) problems.push({ field: name, message: "contains a control character" });
    else fields[name] = value;
  }
  return { fields, problems };
}

/** The trimmed CallUUID, or null when absent or blank (nothing can be recorded or retried safely without one). */
export function callUuidOf(fields: CarrierFields): string | null {
  const v = fields.CallUUID?.trim();
  return v ? v : null;
}

const CALL_STATUSES: ReadonlySet<string> = new Set<CallStatus>(CALL_STATUS_VALUES);
export const TERMINAL_CALL_STATUSES: readonly CallStatus[] = ["completed", "busy", "failed", "timeout", "no-answer", "cancel"];
const TERMINAL: ReadonlySet<string> = new Set(TERMINAL_CALL_STATUSES);
// The carrier spells a cancelled call both ways; the API has one word for it.
const STATUS_ALIASES: Readonly<Record<string, CallStatus>> = { canceled: "cancel", cancelled: "cancel" };

function statusWord(raw: string | undefined): string | undefined {
  const v = raw?.trim().toLowerCase();
  return v === undefined ? undefined : (STATUS_ALIASES[v] ?? v);
}

/** A CallStatus as the API's enum, or `fallback` for anything absent or unknown. */
export function callStatusOf(raw: string | undefined, fallback: CallStatus): CallStatus {
  const v = statusWord(raw);
  return v !== undefined && CALL_STATUSES.has(v) ? (v as CallStatus) : fallback;
}

/** `Event=Hangup` or a terminal CallStatus: the call is over, so record it and never answer with a Dial. */
export function isEndOfCallNotice(fields: CarrierFields): boolean {
  if (fields.Event?.trim().toLowerCase() === "hangup") return true;
  const status = statusWord(fields.CallStatus);
  return status !== undefined && TERMINAL.has(status);
}

/** `outbound` only when the carrier says so: calls to a DID are inbound. */
export function directionOf(raw: string | undefined): CallDirection {
  return raw?.trim().toLowerCase() === "outbound" ? "outbound" : "inbound";
}

/**
 * The `<Dial action>` outcome, or null for anything absent or unknown. A Dial reported `completed` with no B-leg
 * connected nobody (Vobiz reports the Dial element finishing, not a bridge): it is recorded as `no-answer`.
 */
export function dialStatusOf(raw: string | undefined, bLegUuid?: string): string | null {
  const v = statusWord(raw);
  if (v === undefined || !TERMINAL.has(v)) return null;
  if (v === "completed" && bLegUuid !== undefined && bLegUuid.trim() === "") return "no-answer";
  return v;
}

/**
 * Vobiz times (`2024-05-01 10:11:12`, documented without a zone; read as UTC, as the carrier's records are) or an
 * ISO timestamp. Null for empty or unparseable input (the carrier sends `AnswerTime=` for unanswered calls).
 */
export function parseCarrierTime(raw: string | undefined): Date | null {
  const v = raw?.trim();
  if (!v) return null;
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?)(Z|[+-]\d{2}:?\d{2})?$/.exec(v);
  if (!m) return null;
  const zone = m[3] ?? "Z";
  const d = new Date(`${m[1]}T${m[2]}${zone}`);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** A non-negative whole number of seconds, or null. */
export function parseSeconds(raw: string | undefined): number | null {
  const v = raw?.trim();
  if (!v || !/^\d{1,9}$/.test(v)) return null;
  return Number(v);
}

/** The carrier's numeric hangup cause (`4000`, `3010`), kept as the string it is; null when absent or not a code. */
export function hangupCauseCodeOf(raw: string | undefined): string | null {
  const v = raw?.trim();
  return v && /^\d{1,6}$/.test(v) ? v : null;
}

/** A short free-text field (hangup causes) trimmed and bounded, or null when empty. */
export function shortText(raw: string | undefined, max = 100): string | null {
  const v = raw?.trim();
  return v ? v.slice(0, max) : null;
}
