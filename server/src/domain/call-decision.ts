/**
 * What an inbound call should do (design.md §5 step 5), decided without I/O so every rule is unit-tested on its own.
 *
 * Inputs are what the routing store found for (caller, dialled DID): the active pairing if there is one, else the
 * caller's most recent ended pairing on that DID (only to tell "session closed/expired" from "unknown caller").
 * Expiry is checked here against `now`: correctness never waits for the sweeper to mark a session expired.
 */
import type { components } from "@maskline/openapi/schema";
import { dialXml, emptyXml, rejectXml, unavailableXml } from "../vobiz/xml.js";

export type CallDecision = components["schemas"]["CallDecision"];
export type CallStatus = components["schemas"]["CallStatus"];
export type RejectDecision = Exclude<CallDecision, "bridged" | "unavailable">;

/** The texts callers hear when a call is not connected; each may be overridden per app (`app.messages`). */
export const DEFAULT_MESSAGES = Object.freeze({
  notInService: "The number you have dialled is not in service.",
  sessionEnded: "This call can no longer be connected.",
  notAllowed: "Calls from this number cannot be connected.",
  unavailable: "We cannot connect your call right now. Please try again shortly.",
});
export type MessageKey = keyof typeof DEFAULT_MESSAGES;
export type AppMessages = Partial<Record<MessageKey, string>>;

const MESSAGE_FOR: Record<RejectDecision, MessageKey> = {
  rejected_unknown_caller: "notInService",
  rejected_invalid_number: "notInService",
  rejected_session_closed: "sessionEnded",
  rejected_session_expired: "sessionEnded",
  rejected_one_way: "notAllowed",
};

/** The app's text for `key`, or the default when it is unset or blank (a blank Speak would say nothing). */
export function messageFor(messages: AppMessages | null | undefined, key: MessageKey): string {
  const custom = messages?.[key];
  return typeof custom === "string" && custom.trim() !== "" ? custom : DEFAULT_MESSAGES[key];
}

/** The polite reply when Maskline cannot decide (database down or slow, any unexpected error). */
export function unavailableReply(messages: AppMessages | null | undefined): string {
  return unavailableXml(messageFor(messages, "unavailable"));
}

/** The reply to end-of-call notices and other callbacks that must not change the call. */
export const noticeReply = emptyXml;

export type SessionState = "open" | "closed" | "expired";

/** The caller's active pairing on the dialled DID, and the other participant of that session. */
export interface ActiveRoute {
  sessionId: string;
  sessionStatus: SessionState;
  sessionMode: "two_way" | "one_way";
  expiresAt: Date;
  callerParticipantId: string;
  callerPosition: number;
  otherParticipantId: string;
  /** The other participant's real number, +E.164 (decrypted by the caller of this function). */
  otherNumber: string;
  /** The DID the other participant sees calls from this caller on: the Dial's callerId. */
  otherDid: string;
}

/** The caller's most recent ended pairing on the dialled DID (reject path only). */
export interface EndedRoute {
  sessionId: string;
  sessionStatus: SessionState;
  expiresAt: Date;
  callerParticipantId: string;
}

export interface DecideCallInput {
  /** From and To after normalisation; null when unparseable. */
  from: string | null;
  to: string | null;
  active: ActiveRoute | null;
  ended: EndedRoute | null;
  now: Date;
  app: { ringTimeoutSeconds: number; messages: AppMessages | null | undefined; dialStatusUrl: string };
}

export interface CallOutcome {
  decision: Exclude<CallDecision, "unavailable">;
  xml: string;
  /** Null when the caller matched no session. */
  sessionId: string | null;
  fromParticipantId: string | null;
  /** Whom the call was bridged to; null when nobody was dialled. */
  toParticipantId: string | null;
}

function ended(status: SessionState, expiresAt: Date, now: Date): "rejected_session_closed" | "rejected_session_expired" | null {
  if (status === "closed") return "rejected_session_closed";
  // Expired by the clock even while the row still says open: the sweeper may lag, routing must not.
  if (status === "expired" || expiresAt.getTime() <= now.getTime()) return "rejected_session_expired";
  return null;
}

function reject(
  decision: RejectDecision,
  messages: AppMessages | null | undefined,
  session: { sessionId: string; callerParticipantId: string } | null,
): CallOutcome {
  return {
    decision,
    xml: rejectXml(messageFor(messages, MESSAGE_FOR[decision])),
    sessionId: session?.sessionId ?? null,
    fromParticipantId: session?.callerParticipantId ?? null,
    toParticipantId: null,
  };
}

export function decideCall(input: DecideCallInput): CallOutcome {
  const { app, now } = input;
  if (input.from === null || input.to === null) return reject("rejected_invalid_number", app.messages, null);

  const route = input.active;
  if (route) {
    const over = ended(route.sessionStatus, route.expiresAt, now);
    if (over) return reject(over, app.messages, route);
    // One-way: only participants[0] may call; the other side is treated as out of session.
    if (route.sessionMode === "one_way" && route.callerPosition !== 0) return reject("rejected_one_way", app.messages, route);
    return {
      decision: "bridged",
      xml: dialXml({
        callerId: route.otherDid,
        number: route.otherNumber,
        timeoutSeconds: app.ringTimeoutSeconds,
        actionUrl: app.dialStatusUrl,
      }),
      sessionId: route.sessionId,
      fromParticipantId: route.callerParticipantId,
      toParticipantId: route.otherParticipantId,
    };
  }

  // No active pairing: tell a person whose session ended from a stranger (same words differ per app's messages).
  const last = input.ended;
  if (last) {
    const over = ended(last.sessionStatus, last.expiresAt, now);
    if (over) return reject(over, app.messages, last);
  }
  return reject("rejected_unknown_caller", app.messages, null);
}

// ---- The carrier's fields ---------------------------------------------------------------------------------------

const CALL_STATUSES: ReadonlySet<string> = new Set<CallStatus>([
  "ringing",
  "in-progress",
  "completed",
  "busy",
  "failed",
  "timeout",
  "no-answer",
  "cancel",
]);
const TERMINAL_STATUSES: ReadonlySet<string> = new Set(["completed", "busy", "failed", "timeout", "no-answer", "cancel"]);
export const TERMINAL_CALL_STATUSES: readonly CallStatus[] = ["completed", "busy", "failed", "timeout", "no-answer", "cancel"];

/** A CallStatus as the API's enum, or `fallback` for anything absent or unknown. */
export function callStatusOf(raw: string | undefined, fallback: CallStatus): CallStatus {
  const v = raw?.trim().toLowerCase();
  return v !== undefined && CALL_STATUSES.has(v) ? (v as CallStatus) : fallback;
}

/** `Event=Hangup` or a terminal CallStatus: the call is over, so record it and never answer with a Dial. */
export function isEndOfCallNotice(fields: Readonly<Record<string, string | undefined>>): boolean {
  if (fields.Event?.trim().toLowerCase() === "hangup") return true;
  const status = fields.CallStatus?.trim().toLowerCase();
  return status !== undefined && TERMINAL_STATUSES.has(status);
}

const DIAL_STATUSES: ReadonlySet<string> = new Set(["completed", "busy", "failed", "timeout", "no-answer", "cancel"]);

/** A `<Dial action>` DialStatus, or null for anything absent or unknown. */
export function dialStatusOf(raw: string | undefined): string | null {
  const v = raw?.trim().toLowerCase();
  return v !== undefined && DIAL_STATUSES.has(v) ? v : null;
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

/** A short free-text field (hangup causes) trimmed and bounded, or null when empty. */
export function shortText(raw: string | undefined, max = 100): string | null {
  const v = raw?.trim();
  return v ? v.slice(0, max) : null;
}
