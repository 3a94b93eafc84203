/**
 * A call as a small state machine: the carrier's events (the answer request, the `<Dial action>` callback, the
 * end-of-call notice) move it between steps, and a step that needs the carrier to act says what to tell it.
 *
 *   arrived ──answer──▶ bridging ──dial-status──▶ bridging (or ended, when the callback says the call is over)
 *      │                    └──────────hangup──────────▶ ended ◀──hangup/dial-status (stays ended)
 *      └───answer──▶ rejected ──hangup──▶ ended
 *
 * A later flow adds steps between `arrived` and `bridging` (a PIN prompt whose digits callback checks the PIN and
 * then bridges, an outbound leg's answer) as more states and events here; the callers only apply events.
 *
 * The callbacks race each other (the carrier sends dial-status and the hangup notice at the same moment, and
 * retries either), and they are answered without reading the call first: stores/calls.ts applies the same rules
 * in one UPDATE per event (a hangup from any step; a dial-status that never moves an ended call back to live).
 * The rules are written and tested here; the statements there follow them.
 */
import { TERMINAL_CALL_STATUSES, type CallStatus } from "./carrier-fields.js";
import type { CallAction, CallOutcome, RejectDecision } from "./call-decision.js";

export type TerminalCallStatus = Exclude<CallStatus, "ringing" | "in-progress">;

export type CallState =
  /** The carrier asked how to answer; nothing is decided or recorded yet. */
  | { step: "arrived" }
  /** Told to Dial the other participant. */
  | { step: "bridging"; status: CallStatus }
  /** Told to say why not and hang up; only the end-of-call notice follows. */
  | { step: "rejected"; decision: RejectDecision; status: CallStatus }
  | { step: "ended"; status: TerminalCallStatus };

export type CallStep = CallState["step"];
/** Answered and not over yet: the steps a callback can find a recorded call in before its hangup notice. */
export type AnsweredCallState = Extract<CallState, { step: "bridging" | "rejected" }>;

export type CallEvent =
  /** The decision for a new call, with the status the carrier reported on the answer request. */
  | { type: "answer"; outcome: CallOutcome; status: CallStatus }
  /** The `<Dial action>` callback; `status` is the CallStatus sent with it, if any. */
  | { type: "dial-status"; status: CallStatus | null }
  /** The end-of-call notice, with the CallStatus it carries. */
  | { type: "hangup"; status: CallStatus };

export type Transition =
  | { ok: true; state: CallState; /** What to tell the carrier now; null for an empty Response. */ reply: CallAction | null }
  | { ok: false; reason: string };

export const CALL_ARRIVED: CallState = Object.freeze({ step: "arrived" });

const TERMINAL: ReadonlySet<CallStatus> = new Set(TERMINAL_CALL_STATUSES);

export function isTerminalStatus(status: CallStatus): status is TerminalCallStatus {
  return TERMINAL.has(status);
}

/** `ended` is the only state no event leaves: later callbacks are recorded, the call stays over. */
export function isTerminal(state: CallState): boolean {
  return state.step === "ended";
}

/** A hangup notice ends the call whatever status it carries; a live status there would be a carrier quirk. */
export function endStatusOf(reported: CallStatus): TerminalCallStatus {
  return isTerminalStatus(reported) ? reported : "completed";
}

const invalid = (reason: string): Transition => ({ ok: false, reason });

export type AnswerEvent = Extract<CallEvent, { type: "answer" }>;

/** The transition out of `arrived`: the call is bridging or rejected, and the carrier is told the decided action. */
export function answerArrived(event: AnswerEvent): { ok: true; state: AnsweredCallState; reply: CallAction } {
  const { outcome, status } = event;
  if (outcome.decision === "bridged") return { ok: true, state: { step: "bridging", status }, reply: outcome.action };
  return { ok: true, state: { step: "rejected", decision: outcome.decision, status }, reply: outcome.action };
}

/** Where `event` takes a call in `state`, and what to reply; invalid transitions say why. */
export function advanceCall(state: CallState, event: CallEvent): Transition {
  if (event.type === "answer") {
    // A decided call is never decided again: a retried answer gets the stored reply instead.
    return state.step === "arrived" ? answerArrived(event) : invalid(`the call was already answered (${state.step})`);
  }
  if (state.step === "arrived") return invalid(`a ${event.type} callback for a call that was never answered`);
  if (event.type === "hangup") return { ok: true, state: { step: "ended", status: endStatusOf(event.status) }, reply: null };

  // dial-status: the callback may come after the hangup notice; a finished call never moves back to a live state.
  if (state.step === "ended" || event.status === null) return { ok: true, state, reply: null };
  if (isTerminalStatus(event.status)) return { ok: true, state: { step: "ended", status: event.status }, reply: null };
  return { ok: true, state: { ...state, status: event.status }, reply: null };
}
