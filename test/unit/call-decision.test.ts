import { describe, expect, it } from "vitest";
import {
  DEFAULT_MESSAGES,
  decideCall,
  type ActiveRoute,
  type CallOutcome,
  type DecideCallInput,
  type EndedRoute,
} from "../../server/src/domain/call-decision.js";
import { messageFor } from "../../server/src/domain/messages.js";
import { callActionXml, unavailableReply } from "../../server/src/vobiz/xml.js";
import { parseVobizXml } from "../sim/vobiz-xml.js";

const NOW = new Date("2026-03-01T10:00:00Z");
const LATER = new Date("2026-03-01T11:00:00Z");
const EARLIER = new Date("2026-03-01T09:00:00Z");
const DIAL_STATUS_URL = "https://masking.example.com/v1/vobiz/app_1/dial-status?k=s3cret";
const RECORDING_URL = "https://masking.example.com/v1/vobiz/app_1/recording?k=s3cret";
const PIN_URL = "https://masking.example.com/v1/vobiz/app_1/pin?k=s3cret&a=1";

const active = (over: Partial<ActiveRoute> = {}): ActiveRoute => ({
  sessionId: "ses_1",
  sessionStatus: "open",
  sessionMode: "two_way",
  expiresAt: LATER,
  callerParticipantId: "par_a",
  callerPosition: 0,
  otherParticipantId: "par_b",
  otherNumber: "+919888800002",
  otherDid: "+919000000002",
  recording: false,
  ...over,
});

const endedRoute = (over: Partial<EndedRoute> = {}): EndedRoute => ({
  sessionId: "ses_0",
  sessionStatus: "closed",
  expiresAt: LATER,
  callerParticipantId: "par_old",
  ...over,
});

const input = (over: Partial<DecideCallInput> = {}): DecideCallInput => ({
  from: "+919888800001",
  to: "+919000000001",
  active: null,
  ended: null,
  now: NOW,
  app: { ringTimeoutSeconds: 25, maxCallSeconds: 3600, messages: {}, dialStatusUrl: DIAL_STATUS_URL, recordingUrl: RECORDING_URL, pinUrl: PIN_URL },
  ...over,
});

/** The decision as the carrier receives it. */
const xmlOf = (outcome: CallOutcome) => callActionXml(outcome.action);

function expectReject(xml: string, message: string) {
  const parsed = parseVobizXml(xml);
  expect(parsed.kind).toBe("reject");
  expect(parsed.problems).toEqual([]);
  expect(parsed.dial).toBeUndefined();
  expect(parsed.hangupReason).toBe("rejected");
  expect(parsed.speak).toEqual([message]);
}

describe("decideCall", () => {
  it("bridges an open two-way session: the other's real number, shown the other's DID, with the dial-status action", () => {
    const out = decideCall(input({ active: active() }));
    expect(out).toMatchObject({ decision: "bridged", sessionId: "ses_1", fromParticipantId: "par_a", toParticipantId: "par_b" });
    const parsed = parseVobizXml(xmlOf(out));
    expect(parsed.kind).toBe("dial");
    expect(parsed.problems).toEqual([]);
    expect(parsed.dial).toMatchObject({
      callerId: "+919000000002",
      numbers: ["+919888800002"],
      timeout: 25,
      timeLimit: 3600,
      action: DIAL_STATUS_URL,
      method: "POST",
      redirect: "false",
    });
  });

  it("bounds every bridge by the app's maxCallSeconds (timeLimit)", () => {
    const app = { ringTimeoutSeconds: 25, maxCallSeconds: 90, messages: {}, dialStatusUrl: DIAL_STATUS_URL, recordingUrl: RECORDING_URL, pinUrl: PIN_URL };
    expect(parseVobizXml(xmlOf(decideCall(input({ app, active: active() })))).dial?.timeLimit).toBe(90);
  });

  it("bridges from position 1 in a two-way session, and from position 0 in a one-way one", () => {
    expect(decideCall(input({ active: active({ callerPosition: 1 }) })).decision).toBe("bridged");
    expect(decideCall(input({ active: active({ sessionMode: "one_way", callerPosition: 0 }) })).decision).toBe("bridged");
  });

  it("rejects a one-way session called from the wrong side, with the notAllowed message", () => {
    const out = decideCall(input({ active: active({ sessionMode: "one_way", callerPosition: 1 }) }));
    expect(out).toMatchObject({ decision: "rejected_one_way", sessionId: "ses_1", fromParticipantId: "par_a", toParticipantId: null });
    expectReject(xmlOf(out), DEFAULT_MESSAGES.notAllowed);
  });

  it("rejects an expired session by the clock even while its row still says open (the sweeper may lag)", () => {
    const out = decideCall(input({ active: active({ expiresAt: NOW }) }));
    expect(out.decision).toBe("rejected_session_expired");
    expectReject(xmlOf(out), DEFAULT_MESSAGES.sessionEnded);
    expect(decideCall(input({ active: active({ expiresAt: EARLIER }) })).decision).toBe("rejected_session_expired");
    expect(decideCall(input({ active: active({ sessionStatus: "expired" }) })).decision).toBe("rejected_session_expired");
  });

  it("expiry and closure win over the one-way rule (the session is over, whoever calls)", () => {
    const out = decideCall(input({ active: active({ sessionMode: "one_way", callerPosition: 1, sessionStatus: "closed" }) }));
    expect(out.decision).toBe("rejected_session_closed");
  });

  it("rejects a closed session, active row or released one", () => {
    expect(decideCall(input({ active: active({ sessionStatus: "closed" }) })).decision).toBe("rejected_session_closed");
    const out = decideCall(input({ ended: endedRoute() }));
    expect(out).toMatchObject({ decision: "rejected_session_closed", sessionId: "ses_0", fromParticipantId: "par_old", toParticipantId: null });
    expectReject(xmlOf(out), DEFAULT_MESSAGES.sessionEnded);
  });

  it("tells an expired released pairing apart from a closed one", () => {
    expect(decideCall(input({ ended: endedRoute({ sessionStatus: "expired" }) })).decision).toBe("rejected_session_expired");
    expect(decideCall(input({ ended: endedRoute({ sessionStatus: "open", expiresAt: EARLIER }) })).decision).toBe(
      "rejected_session_expired",
    );
  });

  it("treats a released pairing of a still-open session as unknown (it connects nobody)", () => {
    const out = decideCall(input({ ended: endedRoute({ sessionStatus: "open", expiresAt: LATER }) }));
    expect(out).toMatchObject({ decision: "rejected_unknown_caller", sessionId: null, fromParticipantId: null });
  });

  it("rejects an unknown caller with the notInService message and no session", () => {
    const out = decideCall(input());
    expect(out).toEqual(expect.objectContaining({ decision: "rejected_unknown_caller", sessionId: null, fromParticipantId: null, toParticipantId: null }));
    expectReject(xmlOf(out), DEFAULT_MESSAGES.notInService);
  });

  it("rejects unparseable From or To as an invalid number, whatever the lookups said", () => {
    expect(decideCall(input({ from: null, active: active() })).decision).toBe("rejected_invalid_number");
    const out = decideCall(input({ to: null }));
    expect(out.decision).toBe("rejected_invalid_number");
    expectReject(xmlOf(out), DEFAULT_MESSAGES.notInService);
  });

  it("uses the app's messages, escaped so the XML stays valid", () => {
    const messages = { notInService: "Nope & <never>", sessionEnded: "Order 'done' & \"dusted\"", notAllowed: "Not you <3" };
    const app = { ringTimeoutSeconds: 30, maxCallSeconds: 3600, messages, dialStatusUrl: DIAL_STATUS_URL, recordingUrl: RECORDING_URL, pinUrl: PIN_URL };
    expectReject(xmlOf(decideCall(input({ app }))), messages.notInService);
    expectReject(xmlOf(decideCall(input({ app, ended: endedRoute() }))), messages.sessionEnded);
    expectReject(xmlOf(decideCall(input({ app, active: active({ sessionMode: "one_way", callerPosition: 1 }) }))), messages.notAllowed);
  });

  it("escapes the action URL's query string", () => {
    const app = { ringTimeoutSeconds: 30, maxCallSeconds: 3600, messages: {}, dialStatusUrl: "https://h.example/x?k=a&b=<c>", recordingUrl: RECORDING_URL, pinUrl: PIN_URL };
    const out = decideCall(input({ app, active: active() }));
    expect(parseVobizXml(xmlOf(out)).dial?.action).toBe("https://h.example/x?k=a&b=<c>");
  });
});

describe("messages", () => {
  it("falls back to the defaults for unset or blank texts", () => {
    expect(messageFor(undefined, "notInService")).toBe(DEFAULT_MESSAGES.notInService);
    expect(messageFor({ sessionEnded: "   " }, "sessionEnded")).toBe(DEFAULT_MESSAGES.sessionEnded);
    expect(messageFor({ notAllowed: "Custom" }, "notAllowed")).toBe("Custom");
  });

  it("the unavailable reply is a polite Speak and a rejected Hangup, never a Dial", () => {
    const parsed = parseVobizXml(unavailableReply(null));
    expect(parsed).toMatchObject({ kind: "reject", hangupReason: "rejected", speak: [DEFAULT_MESSAGES.unavailable], problems: [] });
    expect(parseVobizXml(unavailableReply({ unavailable: "Back soon & thanks" })).speak).toEqual(["Back soon & thanks"]);
  });
});

describe("consent and PIN prompts", () => {
  it("a recording session's bridge says the notice, then records the whole call (its limits the call's own), then dials", () => {
    const out = decideCall(input({ active: active({ recording: true }) }));
    const parsed = parseVobizXml(xmlOf(out));
    expect(parsed.problems).toEqual([]);
    expect(parsed.verbs.map((v) => v.name)).toEqual(["Speak", "Record", "Dial"]);
    expect(parsed.speak).toEqual([DEFAULT_MESSAGES.recordingNotice]);
    expect(parsed.record).toMatchObject({ recordSession: true, maxLength: 3600, timeout: 3600, callbackUrl: RECORDING_URL });
    expect(parsed.dial).toMatchObject({ callerId: "+919000000002", numbers: ["+919888800002"] });
    // A session that does not record says nothing of it.
    expect(parseVobizXml(xmlOf(decideCall(input({ active: active() })))).verbs.map((v) => v.name)).toEqual(["Dial"]);
  });

  it("a caller with no pairing on a PIN DID is asked for a PIN, the decision pending, the digits kept out of the carrier's logs", () => {
    const out = decideCall(input({ pinDid: { numDigits: 6 } }));
    expect(out).toMatchObject({ decision: "pending", sessionId: null });
    const parsed = parseVobizXml(xmlOf(out));
    expect(parsed.problems).toEqual([]);
    expect(parsed.gather).toMatchObject({ action: PIN_URL, numDigits: 6, log: false, inputType: "dtmf", prompt: DEFAULT_MESSAGES.pinPrompt });
    // A pairing on the DID wins over the PIN prompt.
    expect(decideCall(input({ pinDid: { numDigits: 6 }, active: active() })).decision).toBe("bridged");
  });
});
