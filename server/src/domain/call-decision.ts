/**
 * What a new inbound call should do (docs/architecture.md, "A call", step 4), decided without I/O so every rule is
 * unit-tested on its own. The decision is data (a CallAction); vobiz/xml.ts renders it for the carrier.
 *
 * Inputs are what the routing store found for (caller, dialled DID): the active pairing if there is one, else the
 * caller's most recent ended pairing on that DID (only to tell "session closed/expired" from "unknown caller").
 * Expiry is checked here against `now` (domain/session-state.ts): correctness never waits for the sweeper.
 */
import type { SessionMode } from "@maskline/openapi/constants";
import type { components } from "@maskline/openapi/schema";
import { messageFor, type AppMessages, type MessageKey } from "./messages.js";
import { sessionStatusAt, type SessionStatus } from "./session-state.js";

// Callers of the decision (the webhook tests, the fault suite) check the words it chose against these.
export { DEFAULT_MESSAGES } from "./messages.js";

export type CallDecision = components["schemas"]["CallDecision"];
export type RejectDecision = Exclude<CallDecision, "bridged" | "unavailable" | "pending">;

/** Consent first: the notice is spoken, then the whole bridged call is recorded, then the Dial. */
export interface RecordingStep {
  notice: string;
  /** Where the carrier posts the finished recording. */
  callbackUrl: string;
  /** Both the recording's length limit and its silence timeout (the carrier's 60 s defaults would cut calls short). */
  maxSeconds: number;
}

/** What the carrier is told to do with the call. */
export type CallAction =
  | {
      kind: "bridge";
      /** The masking DID the other participant sees this caller on. */
      callerId: string;
      /** The other participant's real number, +E.164. */
      number: string;
      timeoutSeconds: number;
      timeLimitSeconds: number;
      /** Where the carrier reports the Dial's outcome (the dial-status callback). */
      actionUrl: string;
      /** Set when the session records its calls. */
      recording?: RecordingStep | null;
    }
  | { kind: "refuse"; message: string }
  /** Ask for a PIN: `preface` (if any) is said first, then `prompt` while the digits are collected. */
  | { kind: "gather"; preface: string | null; prompt: string; actionUrl: string; numDigits: number };

const MESSAGE_FOR: Record<RejectDecision, MessageKey> = {
  rejected_unknown_caller: "notInService",
  rejected_invalid_number: "notInService",
  rejected_session_closed: "sessionEnded",
  rejected_session_expired: "sessionEnded",
  rejected_one_way: "notAllowed",
  rejected_wrong_pin: "pinLocked",
  rejected_pin_locked: "pinLocked",
};

/** The caller's active pairing on the dialled DID, and the other participant of that session. */
export interface ActiveRoute {
  sessionId: string;
  sessionStatus: SessionStatus;
  sessionMode: SessionMode;
  expiresAt: Date;
  callerParticipantId: string;
  callerPosition: number;
  otherParticipantId: string;
  /** The other participant's real number, +E.164 (decrypted by the caller of this function). */
  otherNumber: string;
  /** The DID the other participant sees calls from this caller on: the Dial's callerId. */
  otherDid: string;
  /** The session records its calls. */
  recording: boolean;
}

/** The caller's most recent ended pairing on the dialled DID (reject path only). */
export interface EndedRoute {
  sessionId: string;
  sessionStatus: SessionStatus;
  expiresAt: Date;
  callerParticipantId: string;
}

export interface CallSettings {
  ringTimeoutSeconds: number;
  maxCallSeconds: number;
  messages: AppMessages | null | undefined;
  dialStatusUrl: string;
  /** The `<Record callbackUrl>` of recorded calls. */
  recordingUrl: string;
  /** The `<Gather action>` of a PIN call's first prompt. */
  pinUrl: string;
}

/** The dialled DID carries open PIN sessions: a caller with no pairing on it is asked for a PIN. */
export interface PinDid {
  numDigits: number;
}

export interface DecideCallInput {
  /** From and To after normalisation; null when unparseable. */
  from: string | null;
  to: string | null;
  active: ActiveRoute | null;
  ended: EndedRoute | null;
  /** Set when the DID carries live PIN sessions (looked up only when there is no active pairing). */
  pinDid?: PinDid | null;
  now: Date;
  app: CallSettings;
}

export interface CallOutcome {
  /** `pending` while a PIN is being asked for: the digits callback decides. */
  decision: Exclude<CallDecision, "unavailable">;
  action: CallAction;
  /** Null when the caller matched no session. */
  sessionId: string | null;
  fromParticipantId: string | null;
  /** Whom the call was bridged to; null when nobody was dialled. */
  toParticipantId: string | null;
}

function endedDecision(route: ActiveRoute | EndedRoute, now: Date): "rejected_session_closed" | "rejected_session_expired" | null {
  const status = sessionStatusAt({ status: route.sessionStatus, expires_at: route.expiresAt }, now);
  if (status === "closed") return "rejected_session_closed";
  if (status === "expired") return "rejected_session_expired";
  return null;
}

/** The refusal for `decision`: the app's words for it (or the default), and no one dialled. */
export function refusal(
  decision: RejectDecision,
  messages: AppMessages | null | undefined,
  session: { sessionId: string; callerParticipantId: string } | null = null,
): CallOutcome {
  return {
    decision,
    action: { kind: "refuse", message: messageFor(messages, MESSAGE_FOR[decision]) },
    sessionId: session?.sessionId ?? null,
    fromParticipantId: session?.callerParticipantId ?? null,
    toParticipantId: null,
  };
}

/** The consent notice and recording step for a session that records, else null. */
export function recordingStep(recording: boolean, app: Pick<CallSettings, "messages" | "recordingUrl" | "maxCallSeconds">): RecordingStep | null {
  if (!recording) return null;
  return { notice: messageFor(app.messages, "recordingNotice"), callbackUrl: app.recordingUrl, maxSeconds: app.maxCallSeconds };
}

/** The Dial to the other participant, who sees `callerId`; recorded after the notice when the session records. */
export function bridgeTo(
  other: { number: string; callerId: string; recording: boolean },
  app: CallSettings,
): Extract<CallAction, { kind: "bridge" }> {
  return {
    kind: "bridge",
    callerId: other.callerId,
    number: other.number,
    timeoutSeconds: app.ringTimeoutSeconds,
    timeLimitSeconds: app.maxCallSeconds,
    actionUrl: app.dialStatusUrl,
    recording: recordingStep(other.recording, app),
  };
}

export function decideCall(input: DecideCallInput): CallOutcome {
  const { app, now } = input;
  if (input.from === null || input.to === null) return refusal("rejected_invalid_number", app.messages);

  const route = input.active;
  if (route) {
    const over = endedDecision(route, now);
    if (over) return refusal(over, app.messages, route);
    // One-way: only participants[0] may call; the other side is treated as out of session.
    if (route.sessionMode === "one_way" && route.callerPosition !== 0) return refusal("rejected_one_way", app.messages, route);
    return {
      decision: "bridged",
      action: bridgeTo({ number: route.otherNumber, callerId: route.otherDid, recording: route.recording }, app),
      sessionId: route.sessionId,
      fromParticipantId: route.callerParticipantId,
      toParticipantId: route.otherParticipantId,
    };
  }

  // No pairing of this caller on a DID that carries PIN sessions: the PIN decides, in the digits callback.
  if (input.pinDid) {
    return {
      decision: "pending",
      action: { kind: "gather", preface: null, prompt: messageFor(app.messages, "pinPrompt"), actionUrl: app.pinUrl, numDigits: input.pinDid.numDigits },
      sessionId: null,
      fromParticipantId: null,
      toParticipantId: null,
    };
  }

  // No active pairing: tell a person whose session ended from a stranger (same words differ per app's messages).
  const last = input.ended;
  if (last) {
    const over = endedDecision(last, now);
    if (over) return refusal(over, app.messages, last);
  }
  return refusal("rejected_unknown_caller", app.messages);
}
