/**
 * A call as a small state machine: the carrier's events (the answer request, the `<Dial action>` callback, the
 * end-of-call notice) move it between steps, and a step that needs the carrier to act says what to tell it.
 *
 *   placing ──(the first leg answers)──▶ arrived                          (a call Maskline placed: click-to-call)
 *   arrived ──answer──▶ bridging ──dial-status──▶ bridging (or ended, when the callback says the call is over)
 *      │                    └──────────hangup──────────▶ ended ◀──hangup/dial-status (stays ended)
 *      ├───answer──▶ rejected ──hangup──▶ ended
 *      └───answer──▶ gathering ──digits──▶ bridging | rejected | gathering (another try)     (a PIN call)
 *
 * `placing` and `gathering` are the calls whose decision is still `pending`; the hangup notice ends a call from any
 * state (an outbound call nobody answered, a caller who hung up at the PIN prompt).
 *
 * The callbacks race each other (the carrier sends dial-status and the hangup notice at the same moment, and
 * retries either), and they are answered without reading the call first, so stores/calls.ts cannot hand the stored
 * state to advanceCall. It writes the same rule instead, from the two functions advanceCall is made of: the status a
 * callback moves a live call to (liveStatusAfter) and whether an ended call takes it (endedCallTakes), which
 * callStatusAfterSql turns into the value of the call's status column in the store's one UPDATE per callback.
 */
import { TERMINAL_CALL_STATUSES, type CallStatus } from "./carrier-fields.js";
import type { CallAction, CallOutcome, RejectDecision } from "./call-decision.js";

export type TerminalCallStatus = Exclude<CallStatus, "ringing" | "in-progress">;

export type CallState =
  /** Maskline asked the carrier to place the call; its first leg has not answered. */
  | { step: "placing"; status: CallStatus }
  /** The carrier asked how to answer; nothing is decided or recorded yet. */
  | { step: "arrived" }
  /** Asked for a PIN; the digits callback decides (`attempt` counts the prompts). */
  | { step: "gathering"; attempt: number; status: CallStatus }
  /** Told to Dial the other participant. */
  | { step: "bridging"; status: CallStatus }
  /** Told to say why not and hang up; only the end-of-call notice follows. */
  | { step: "rejected"; decision: RejectDecision; status: CallStatus }
  | { step: "ended"; status: TerminalCallStatus };

export type CallStep = CallState["step"];
/** Answered and not over yet: the steps a callback can find a recorded call in before its hangup notice. */
export type AnsweredCallState = Extract<CallState, { step: "bridging" | "rejected" | "gathering" }>;

export type CallEvent =
  /** The decision for a new call, with the status the carrier reported on the answer request. */
  | { type: "answer"; outcome: CallOutcome; status: CallStatus }
  /** A PIN call's digits were judged: `outcome` is the bridge or refusal, or (still pending) another prompt. */
  | { type: "digits"; outcome: CallOutcome; attempt: number }
  /** The `<Dial action>` callback; `status` is the CallStatus sent with it, if any. */
  | { type: "dial-status"; status: CallStatus | null }
  /** The end-of-call notice, with the CallStatus it carries. */
  | { type: "hangup"; status: CallStatus };

export type Transition =
  | { ok: true; state: CallState; /** What to tell the carrier now; null for an empty Response. */ reply: CallAction | null }
  | { ok: false; reason: string };

const TERMINAL: ReadonlySet<CallStatus> = new Set(TERMINAL_CALL_STATUSES);

export function isTerminalStatus(status: CallStatus): status is TerminalCallStatus {
  return TERMINAL.has(status);
}

/** A hangup notice ends the call whatever status it carries; a live status there would be a carrier quirk. */
export function endStatusOf(reported: CallStatus): TerminalCallStatus {
  return isTerminalStatus(reported) ? reported : "completed";
}

const invalid = (reason: string): Transition => ({ ok: false, reason });

export type AnswerEvent = Extract<CallEvent, { type: "answer" }>;

/** Where a decided outcome takes a call: bridging, rejected, or (a PIN prompt) gathering its `attempt`th try. */
function decided(outcome: CallOutcome, status: CallStatus, attempt: number): AnsweredCallState {
  if (outcome.decision === "bridged") return { step: "bridging", status };
  if (outcome.decision === "pending") return { step: "gathering", attempt, status };
  return { step: "rejected", decision: outcome.decision, status };
}

/** The transition out of `arrived`: the call is bridging, rejected or asked for a PIN, and the carrier is told so. */
export function answerArrived(event: AnswerEvent): { ok: true; state: AnsweredCallState; reply: CallAction } {
  return { ok: true, state: decided(event.outcome, event.status, 1), reply: event.outcome.action };
}

export type DigitsEvent = Extract<CallEvent, { type: "digits" }>;

/**
 * A PIN call's digits, judged: only a call still gathering takes them (a retried callback of an attempt already
 * judged gets that attempt's stored reply instead, and never reaches here).
 */
export function digitsJudged(state: CallState, event: DigitsEvent): Transition {
  if (state.step !== "gathering") return invalid(`digits for a call that is not asking for a PIN (${state.step})`);
  if (event.attempt !== state.attempt) return invalid(`digits for attempt ${event.attempt} while attempt ${state.attempt} is asked`);
  return { ok: true, state: decided(event.outcome, state.status, state.attempt + 1), reply: event.outcome.action };
}

/** Where `event` takes a call in `state`, and what to reply; invalid transitions say why. */
export function advanceCall(state: CallState, event: CallEvent): Transition {
  if (event.type === "answer") {
    // A decided call is never decided again: a retried answer gets the stored reply instead.
    // A placed call is answered like an arrived one once its first leg picks up (its answer URL is fetched).
    if (state.step === "arrived" || state.step === "placing") return answerArrived(event);
    return invalid(`the call was already answered (${state.step})`);
  }
  if (event.type === "digits") return digitsJudged(state, event);
  if (state.step === "arrived") return invalid(`a ${event.type} callback for a call that was never answered`);
  const status = liveStatusAfter(event);
  if (status === null || (state.step === "ended" && !endedCallTakes(event))) return { ok: true, state, reply: null };
  if (isTerminalStatus(status)) return { ok: true, state: { step: "ended", status }, reply: null };
  return { ok: true, state: state.step === "ended" ? state : { ...state, status }, reply: null };
}

export type CallbackEvent = Exclude<CallEvent, { type: "answer" | "digits" }>;

/** The status a callback moves a live call (bridging or rejected) to; null when it carries none (the status stays). */
export function liveStatusAfter(event: CallbackEvent): CallStatus | null {
  return event.type === "hangup" ? endStatusOf(event.status) : event.status;
}

/**
 * Whether an ended call takes the callback's status. Only the end-of-call notice does: it has the last word, also
 * over a dial-status that ended the call first; a dial-status arriving after the end never moves the call back.
 */
export function endedCallTakes(event: CallbackEvent): boolean {
  return event.type === "hangup";
}

/**
 * The rule of advanceCall as the SQL value of a call's status `column`, for an UPDATE that applies `event` without
 * reading the row: liveStatusAfter(event), except that an ended call keeps its status unless endedCallTakes(event).
 * `?` placeholders, with their bindings.
 */
export function callStatusAfterSql(column: string, event: CallbackEvent): { sql: string; bindings: string[] } {
  const status = liveStatusAfter(event);
  if (status === null) return { sql: column, bindings: [] };
  if (endedCallTakes(event)) return { sql: "?", bindings: [status] };
  const ended = TERMINAL_CALL_STATUSES.map(() => "?").join(", ");
  return { sql: `CASE WHEN ${column} IN (${ended}) THEN ${column} ELSE ? END`, bindings: [...TERMINAL_CALL_STATUSES, status] };
}
