/**
 * Vobiz's REST answers (Plivo's shapes) read into the port's types (carrier.ts), and the carrier's refusal words
 * made safe to keep. Reading is lenient where Plivo is known to vary (a duration as "1234" or "1234.00000", add_time
 * with or without a zone) and strict where a wrong guess would mislead: a recording without an id or a URL is no
 * recording, and null is returned instead of a half-filled one.
 */
import { STATUS_CODES } from "node:http";
import type { CarrierRecording, PlacedCall } from "./carrier.js";
import { redactPhoneNumbers } from "../logging/redact.js";

export const MAX_REASON_CHARS = 200;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString("utf8")) as unknown;
  } catch {
    return undefined;
  }
}

function text(value: unknown): string | null {
  return typeof value === "string" && value !== "" ? value : null;
}

/** `request_uuid` (a one-element list when Plivo answers a single-number call in its bulk shape), or null. */
export function placedCallFrom(body: unknown): PlacedCall | null {
  if (!isObject(body)) return null;
  const raw = body.request_uuid;
  const uuid = Array.isArray(raw) && raw.length === 1 ? text(raw[0]) : text(raw);
  if (uuid === null) return null;
  return { requestUuid: uuid, apiId: text(body.api_id), message: text(body.message) };
}

export function recordingFrom(value: unknown): CarrierRecording | null {
  if (!isObject(value)) return null;
  const id = typeof value.recording_id === "number" ? String(value.recording_id) : text(value.recording_id);
  const url = text(value.recording_url);
  if (id === null || url === null) return null;
  return {
    recordingId: id,
    callUuid: text(value.call_uuid),
    recordingUrl: url,
    format: text(value.recording_format),
    durationMs: durationMs(value.recording_duration_ms),
    addedAt: addTime(value.add_time),
  };
}

/** The page's recordings, or null when the list or any item in it is malformed (a skipped item would go unseen). */
export function recordingsFrom(body: unknown): CarrierRecording[] | null {
  if (!isObject(body) || !Array.isArray(body.objects)) return null;
  const recordings = body.objects.map(recordingFrom);
  return recordings.every((r): r is CarrierRecording => r !== null) ? recordings : null;
}

function durationMs(value: unknown): number | null {
  const n = typeof value === "number" ? value : typeof value === "string" && /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : NaN;
  return Number.isFinite(n) && n >= 0 ? Math.round(n) : null;
}

const ADD_TIME = /^(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:?\d\d)?$/;

/** `YYYY-MM-DD HH:MM:SS[.ffffff][zone]`, UTC when no zone is given (Vobiz's own timestamps are UTC). */
function addTime(value: unknown): Date | null {
  const match = typeof value === "string" ? ADD_TIME.exec(value.trim()) : null;
  if (!match) return null;
  const [, day, time, fraction = "", zone = "Z"] = match;
  const iso = `${day}T${time}${fraction.slice(0, 4)}${zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone}`;
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? null : at;
}

/**
 * Why the carrier refused, fit for a log line and an error message: its `error` (or `message`) field, else its
 * text; secrets it might echo replaced, query strings of URLs dropped (an answer_url carries the app's URL secret),
 * phone numbers masked (a carrier may quote the request: "invalid 'to' number +91…", a real person's number),
 * control and bidi characters removed, at most 200 characters. Falls back to the status's name.
 */
export function carrierReason(bytes: Buffer, status: number, secrets: readonly string[]): string {
  const raw = bytes.toString("utf8");
  const body = parseJson(bytes);
  let reason = raw;
  if (isObject(body)) {
    const said = body.error ?? body.message;
    if (typeof said === "string") reason = said;
    else if (said !== undefined && said !== null) reason = JSON.stringify(said);
  }
  for (const secret of secrets) if (secret !== "") reason = reason.split(secret).join("[redacted]");
  reason = redactPhoneNumbers(reason)
    .replace(/(https?:\/\/[^\s?#"']*)[?#][^\s"']*/gi, "$1?…")
    .replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  const chars = Array.from(reason);
  if (chars.length > MAX_REASON_CHARS) reason = `${chars.slice(0, MAX_REASON_CHARS - 1).join("")}…`;
  return reason || (STATUS_CODES[status] ?? "no reason given");
}
