/**
 * What an inbound call should do (docs/architecture.md, "A call", step 4), decided without I/O so every rule is unit-tested on its own.
 *
 * Inputs are what the routing store found for (caller, dialled DID): the active pairing if there is one, else the
 * caller's most recent ended pairing on that DID (only to tell "session closed/expired" from "unknown caller").
 * Expiry is checked here against `now`: correctness never waits for the sweeper to mark a session expired.
 */
import type { components } from "@maskline/openapi/schema";
import { dialXml, rejectXml, unavailableXml } from "../vobiz/xml.js";

export type CallDecision = components["schemas"]["CallDecision"];
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
  app: { ringTimeoutSeconds: number; maxCallSeconds: number; messages: AppMessages | null | undefined; dialStatusUrl: string };
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
        timeLimitSeconds: app.maxCallSeconds,
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
