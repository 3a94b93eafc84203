import { describe, expect, it } from "vitest";
import {
  callStatusOf,
  dialStatusOf,
  directionOf,
  hangupCauseCodeOf,
  isEndOfCallNotice,
  parseCarrierTime,
  parseSeconds,
  readCarrierFields,
} from "../../server/src/domain/carrier-fields.js";

describe("carrier fields", () => {
  it("recognises end-of-call notices by Event=Hangup or a terminal CallStatus, including 'canceled'", () => {
    expect(isEndOfCallNotice({ Event: "Hangup", CallStatus: "completed" })).toBe(true);
    expect(isEndOfCallNotice({ Event: "Hangup" })).toBe(true);
    for (const s of ["completed", "busy", "failed", "timeout", "no-answer", "cancel", "canceled", "Cancelled"]) {
      expect(isEndOfCallNotice({ Event: "StartApp", CallStatus: s })).toBe(true);
    }
    expect(isEndOfCallNotice({ Event: "StartApp", CallStatus: "ringing" })).toBe(false);
    expect(isEndOfCallNotice({ CallStatus: "in-progress" })).toBe(false);
    expect(isEndOfCallNotice({})).toBe(false);
  });

  it("maps statuses to the API's enums, with the carrier's two spellings of cancel as one", () => {
    expect(callStatusOf("in-progress", "ringing")).toBe("in-progress");
    expect(callStatusOf(" Completed ", "ringing")).toBe("completed");
    expect(callStatusOf("canceled", "completed")).toBe("cancel");
    expect(callStatusOf("queued", "ringing")).toBe("ringing");
    expect(callStatusOf(undefined, "completed")).toBe("completed");
    expect(dialStatusOf("no-answer")).toBe("no-answer");
    expect(dialStatusOf("canceled")).toBe("cancel");
    expect(dialStatusOf("weird")).toBeNull();
  });

  it("reads a completed Dial with an empty B-leg as connecting nobody", () => {
    expect(dialStatusOf("completed", "")).toBe("no-answer");
    expect(dialStatusOf("completed", "  ")).toBe("no-answer");
    expect(dialStatusOf("completed", "b-leg-uuid")).toBe("completed");
    expect(dialStatusOf("completed")).toBe("completed");
    expect(dialStatusOf("busy", "")).toBe("busy");
  });

  it("keeps the numeric hangup cause code, and nothing that is not one", () => {
    expect(hangupCauseCodeOf("4000")).toBe("4000");
    expect(hangupCauseCodeOf(" 3010 ")).toBe("3010");
    expect(hangupCauseCodeOf("NORMAL_CLEARING")).toBeNull();
    expect(hangupCauseCodeOf("")).toBeNull();
    expect(hangupCauseCodeOf(undefined)).toBeNull();
  });

  it("calls are inbound unless the carrier says outbound", () => {
    expect(directionOf("outbound")).toBe("outbound");
    expect(directionOf("inbound")).toBe("inbound");
    expect(directionOf(undefined)).toBe("inbound");
    expect(directionOf("sideways")).toBe("inbound");
  });

  it("parses Vobiz times as UTC and durations as whole seconds", () => {
    expect(parseCarrierTime("2026-03-01 10:11:12")?.toISOString()).toBe("2026-03-01T10:11:12.000Z");
    expect(parseCarrierTime("2026-03-01T10:11:12+05:30")?.toISOString()).toBe("2026-03-01T04:41:12.000Z");
    expect(parseCarrierTime("")).toBeNull();
    expect(parseCarrierTime("yesterday")).toBeNull();
    expect(parseSeconds("95")).toBe(95);
    expect(parseSeconds("-1")).toBeNull();
    expect(parseSeconds("1.5")).toBeNull();
    expect(parseSeconds(undefined)).toBeNull();
  });
});

describe("reading carrier fields at the edge", () => {
  it("keeps the known fields (first of repeated ones) and ignores the rest", () => {
    const { fields, problems } = readCarrierFields({ CallUUID: ["u-1", "u-2"], From: "+919888800001", Other: "x\u0000" });
    expect(problems).toEqual([]);
    expect(fields).toEqual({ CallUUID: "u-1", From: "+919888800001" });
  });

  it("refuses, by field name only, what no carrier sends and Postgres cannot store", () => {
    const { fields, problems } = readCarrierFields({
      CallUUID: "abc\u0000def",
      From: "+91\ud800",
      To: "x".repeat(300),
      HangupCause: "NORMAL\u0007CLEARING",
      Event: "StartApp",
    });
    expect(problems.map((p) => p.field).sort()).toEqual(["CallUUID", "From", "HangupCause", "To"]);
    expect(JSON.stringify(problems)).not.toContain("abc");
    expect(fields).toEqual({ Event: "StartApp" });
  });

  it("bounds a CallUUID tighter than other fields", () => {
    expect(readCarrierFields({ CallUUID: "u".repeat(129) }).problems).toHaveLength(1);
    expect(readCarrierFields({ CallUUID: "u".repeat(128) }).problems).toHaveLength(0);
  });
});
