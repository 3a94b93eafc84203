/**
 * The few VobizXML replies the answer path needs (docs/carrier-protocol.md section 2), built by string concatenation,
 * and the one place a call's decided action (domain/call-decision.ts) becomes XML.
 *
 * This runs on the hot path, so there is no DOM or builder library: each reply is a handful of concatenations.
 * The one thing that must never go wrong is escaping: a bare `&` or `<` in a tenant's message or in a URL makes
 * Vobiz drop the call with "invalid XML" (8011), so every interpolated value goes through `escapeXml`.
 */
import type { CallAction, RecordingStep } from "../domain/call-decision.js";
import { messageFor, type AppMessages } from "../domain/messages.js";

const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';

/** `<Hangup>` accepts only `rejected` or `busy`; `rejected` as the first element refuses the call unanswered. */
const HANGUP_REJECTED = '<Hangup reason="rejected"/>';

const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
};

// Besides the five markup characters, drop what XML 1.0 cannot carry at all, even as a character reference:
// C0 controls other than tab/LF/CR, U+FFFE/U+FFFF and unpaired surrogates. Any of them would make the whole
// reply invalid, and a tenant's message text is not trusted to be clean.
const UNSAFE =
  // eslint-disable-next-line no-control-regex
  /[&<>"'\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Escapes text for use both as element content and inside a double- or single-quoted attribute. */
export function escapeXml(s: string): string {
  // replace() with no match returns the input without allocating, so clean strings (the common case) stay cheap.
  return s.replace(UNSAFE, (ch) => ENTITIES[ch] ?? "");
}

export interface DialXmlInput {
  /** Always the masking DID the caller sees: Vobiz refuses an unrented caller ID (3030) and Indian rules forbid others. */
  callerId: string;
  /** The other participant's real number, +E.164. */
  number: string;
  /** Ring time before the Dial gives up. */
  timeoutSeconds: number;
  /** Absolute URL called once when the Dial ends (with DialStatus etc.). */
  actionUrl: string;
  /** Maximum bridged time; Vobiz's default (14400 s) applies when omitted. */
  timeLimitSeconds?: number;
}

function seconds(name: string, value: number): string {
  // A NaN or fractional value would render as an attribute Vobiz rejects; fail loudly at the source instead.
  if (!Number.isInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return String(value);
}

/**
 * Bridges the caller to one number. `redirect="false"` makes the action a notification only: the call's course is
 * decided here, and a slow or failing dial-status endpoint cannot affect a live call.
 */
function dialXml(input: DialXmlInput & { recording?: RecordingStep | null }): string {
  const timeLimit =
    input.timeLimitSeconds === undefined ? "" : ` timeLimit="${seconds("timeLimitSeconds", input.timeLimitSeconds)}"`;
  return (
    DECLARATION +
    "<Response>" +
    (input.recording ? recordXml(input.recording) : "") +
    '<Dial callerId="' +
    escapeXml(input.callerId) +
    '" timeout="' +
    seconds("timeoutSeconds", input.timeoutSeconds) +
    '"' +
    timeLimit +
    ' action="' +
    escapeXml(input.actionUrl) +
    '" method="POST" redirect="false"><Number>' +
    escapeXml(input.number) +
    "</Number></Dial></Response>"
  );
}

/**
 * Consent, then the recording: the notice is spoken first, and `<Record recordSession>` records the whole call from
 * the moment the Dial is answered, in the background (the next verb runs at once). Both `maxLength` and the silence
 * `timeout` are the call's own limit: the carrier's 60 s defaults would cut a long or quiet call's recording short.
 */
function recordXml(step: RecordingStep): string {
  const max = seconds("maxSeconds", step.maxSeconds);
  const notice = step.notice.trim() === "" ? "" : "<Speak>" + escapeXml(step.notice) + "</Speak>";
  return (
    notice +
    '<Record recordSession="true" startOnDialAnswer="true" redirect="false" playBeep="false" fileFormat="mp3" maxLength="' +
    max +
    '" timeout="' +
    max +
    '" callbackUrl="' +
    escapeXml(step.callbackUrl) +
    '" callbackMethod="POST"/>'
  );
}

/**
 * Asks for a PIN. The digits go to `actionUrl`; `log="false"` keeps them out of the carrier's logs. A carrier that
 * moves on when nothing is keyed (instead of posting the action with empty Digits) reaches the Redirect, which
 * posts the same step without digits: both ways, "no input" arrives at the action once.
 */
function gatherXml(action: Extract<CallAction, { kind: "gather" }>): string {
  const preface = action.preface && action.preface.trim() !== "" ? "<Speak>" + escapeXml(action.preface) + "</Speak>" : "";
  const url = escapeXml(action.actionUrl);
  return (
    DECLARATION +
    "<Response>" +
    preface +
    '<Gather action="' +
    url +
    '" method="POST" inputType="dtmf" numDigits="' +
    seconds("numDigits", action.numDigits) +
    '" executionTimeout="15" digitEndTimeout="5" finishOnKey="#" redirect="true" log="false"><Speak>' +
    escapeXml(action.prompt) +
    '</Speak></Gather><Redirect method="POST">' +
    url +
    "</Redirect></Response>"
  );
}

/**
 * Refuses the call. With a message, `<Speak>` plays it first (which answers, and so bills, the call); without one,
 * `<Hangup>` comes first and the call is rejected unanswered. A blank message counts as none: an empty `<Speak>`
 * would answer the call only to say nothing.
 */
function rejectXml(message: string): string {
  if (message.trim() === "") return DECLARATION + "<Response>" + HANGUP_REJECTED + "</Response>";
  return DECLARATION + "<Response><Speak>" + escapeXml(message) + "</Speak>" + HANGUP_REJECTED + "</Response>";
}

/** The reply to end-of-call notices and other callbacks that must not change the call. */
export function emptyXml(): string {
  return DECLARATION + "<Response></Response>";
}

/**
 * The reply when the service cannot decide (e.g. the database is down): a polite message and a hangup rather than
 * an error status or silence, either of which would drop the call with a carrier error instead. Same shape as a
 * rejection; the separate name keeps call sites honest about why the call ends.
 */
function unavailableXml(message: string): string {
  return rejectXml(message);
}

/** The reply that tells the carrier to carry out `action`. */
export function callActionXml(action: CallAction): string {
  if (action.kind === "bridge") return dialXml(action);
  if (action.kind === "gather") return gatherXml(action);
  return rejectXml(action.message);
}

/** The polite reply when Maskline cannot decide (database down or slow, any unexpected error), in the app's words. */
export function unavailableReply(messages: AppMessages | null | undefined): string {
  return unavailableXml(messageFor(messages, "unavailable"));
}
