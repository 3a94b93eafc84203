import { describe, expect, it } from "vitest";
import {
  advanceCall,
  answerArrived,
  endStatusOf,
  type CallEvent,
  type CallState,
} from "../../server/src/domain/call-flow.js";
import { refusal, type CallOutcome } from "../../server/src/domain/call-decision.js";
import type { CallStatus } from "../../server/src/domain/carrier-fields.js";

const bridged: CallOutcome = {
  decision: "bridged",
  action: {
    kind: "bridge",
    callerId: "+919000000002",
    number: "+919888800002",
    timeoutSeconds: 30,
    timeLimitSeconds: 3600,
    actionUrl: "https://masking.example.com/v1/vobiz/app_1/dial-status?k=s",
  },
  sessionId: "ses_1",
  fromParticipantId: "par_a",
  toParticipantId: "par_b",
};
const refused = refusal("rejected_session_closed", {}, { sessionId: "ses_0", callerParticipantId: "par_a" });

const answer = (outcome: CallOutcome): CallEvent => ({ type: "answer", outcome, status: "ringing" });
const hangup = (status: CallStatus): CallEvent => ({ type: "hangup", status });
const dialStatus = (status: CallStatus | null): CallEvent => ({ type: "dial-status", status });

const CALL_ARRIVED: CallState = { step: "arrived" };
const bridging: CallState = { step: "bridging", status: "ringing" };
const rejected: CallState = { step: "rejected", decision: "rejected_session_closed", status: "ringing" };
const ended: CallState = { step: "ended", status: "completed" };

function stateAfter(state: CallState, event: CallEvent): CallState {
  const t = advanceCall(state, event);
  if (!t.ok) throw new Error(`unexpected invalid transition: ${t.reason}`);
  return t.state;
}

describe("call flow: answering", () => {
  it("an arrived call the decision bridges is bridging, and the carrier is told to Dial", () => {
    const t = advanceCall(CALL_ARRIVED, answer(bridged));
    expect(t).toEqual({ ok: true, state: bridging, reply: bridged.action });
  });

  it("an arrived call the decision refuses is rejected, and the carrier is told the refusal", () => {
    const t = advanceCall(CALL_ARRIVED, answer(refused));
    expect(t).toEqual({ ok: true, state: rejected, reply: refused.action });
    expect(answerArrived({ type: "answer", outcome: refused, status: "in-progress" }).state).toEqual({ ...rejected, status: "in-progress" });
  });

  it("a call already answered is never answered again (a retry gets the stored reply instead)", () => {
    for (const state of [bridging, rejected, ended]) {
      const t = advanceCall(state, answer(bridged));
      expect(t.ok).toBe(false);
    }
  });
});

describe("call flow: callbacks", () => {
  it("a callback for a call that was never answered is not a transition", () => {
    expect(advanceCall(CALL_ARRIVED, hangup("completed")).ok).toBe(false);
    expect(advanceCall(CALL_ARRIVED, dialStatus("in-progress")).ok).toBe(false);
  });

  it("the hangup notice ends a bridging or rejected call with the status it carries", () => {
    expect(stateAfter(bridging, hangup("no-answer"))).toEqual({ step: "ended", status: "no-answer" });
    expect(stateAfter(rejected, hangup("completed"))).toEqual(ended);
  });

  it("a hangup notice carrying a live status still ends the call, as completed", () => {
    expect(endStatusOf("in-progress")).toBe("completed");
    expect(endStatusOf("ringing")).toBe("completed");
    expect(endStatusOf("busy")).toBe("busy");
    expect(stateAfter(bridging, hangup("in-progress"))).toEqual(ended);
  });

  it("the dial-status callback keeps a live call live with the status it reports, or leaves it as it is without one", () => {
    expect(stateAfter(bridging, dialStatus("in-progress"))).toEqual({ step: "bridging", status: "in-progress" });
    expect(stateAfter(bridging, dialStatus(null))).toEqual(bridging);
    expect(stateAfter(rejected, dialStatus("in-progress"))).toEqual({ ...rejected, status: "in-progress" });
  });

  it("a dial-status reporting a finished call ends it", () => {
    expect(stateAfter(bridging, dialStatus("completed"))).toEqual(ended);
  });

  it("callbacks reply with an empty Response: only the answer tells the carrier what to do", () => {
    for (const [state, event] of [
      [bridging, hangup("completed")],
      [bridging, dialStatus("in-progress")],
      [ended, hangup("completed")],
    ] as const) {
      const t = advanceCall(state, event);
      expect(t.ok && t.reply).toBeNull();
    }
  });
});

describe("call flow: the terminal state", () => {
  it("a dial-status after the hangup notice never moves an ended call back to a live state", () => {
    expect(stateAfter(ended, dialStatus("in-progress"))).toEqual(ended);
    expect(stateAfter(ended, dialStatus("busy"))).toEqual(ended);
  });

  it("a repeated hangup notice leaves it ended, with the status the notice carries", () => {
    expect(stateAfter(ended, hangup("completed"))).toEqual(ended);
    expect(stateAfter(ended, hangup("busy"))).toEqual({ step: "ended", status: "busy" });
  });
});

describe("the call flows' steps", () => {
  const gather: CallOutcome = {
    decision: "pending",
    action: { kind: "gather", preface: null, prompt: "PIN?", actionUrl: "https://masking.example.com/v1/vobiz/app_1/pin?k=s&a=1", numDigits: 6 },
    sessionId: null,
    fromParticipantId: null,
    toParticipantId: null,
  };
  const digits = (outcome: CallOutcome, attempt: number): CallEvent => ({ type: "digits", outcome, attempt });

  it("a PIN prompt gathers; its digits bridge, refuse, or ask again for the next attempt", () => {
    const gathering = stateAfter(CALL_ARRIVED, answer(gather));
    expect(gathering).toEqual({ step: "gathering", attempt: 1, status: "ringing" });
    expect(stateAfter(gathering, digits(gather, 1))).toEqual({ step: "gathering", attempt: 2, status: "ringing" });
    expect(stateAfter(gathering, digits(bridged, 1)).step).toBe("bridging");
    expect(stateAfter(gathering, digits(refusal("rejected_wrong_pin", {}), 1))).toMatchObject({ step: "rejected", decision: "rejected_wrong_pin" });
  });

  it("digits for another attempt, or for a call not asking for a PIN, are refused as transitions", () => {
    const gathering = stateAfter(CALL_ARRIVED, answer(gather));
    expect(advanceCall(gathering, digits(bridged, 2)).ok).toBe(false);
    expect(advanceCall(bridging, digits(bridged, 1)).ok).toBe(false);
  });

  it("a placed call is answered once its first leg picks up, and a hangup ends one nobody answered", () => {
    const placing: CallState = { step: "placing", status: "initiated" };
    expect(stateAfter(placing, answer(bridged)).step).toBe("bridging");
    expect(stateAfter(placing, hangup("no-answer"))).toEqual({ step: "ended", status: "no-answer" });
  });
});
