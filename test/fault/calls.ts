/** How a fault test reads the carrier's view of a reply. */
import { expect } from "vitest";
import type { CallResult, SimResponse } from "../sim/vobiz-simulator.js";

/** The answer budget the issue sets for every reply the caller waits on. */
export const ANSWER_DEADLINE_MS = 1_000;

const summary = (call: CallResult) =>
  `status ${call.status} after ${Math.round(call.request.elapsedMs)} ms: ${call.error ?? call.xml.slice(0, 400)}`;

/** Bridged to `number`, showing `callerId`, as valid XML within the answer budget. */
export function expectBridged(call: CallResult, number: string, callerId: string) {
  expect(call.status, summary(call)).toBe(200);
  expect(call.kind, summary(call)).toBe("dial");
  expect(call.problems, summary(call)).toEqual([]);
  expect(call.dial?.numbers, summary(call)).toEqual([number]);
  expect(call.dial?.callerId, summary(call)).toBe(callerId);
  expect(call.request.elapsedMs, summary(call)).toBeLessThan(ANSWER_DEADLINE_MS);
}

/** Turned away politely: HTTP 200, valid XML, the given words, `<Hangup reason="rejected"/>`, never a Dial. */
export function expectPoliteGoodbye(call: CallResult, message: string) {
  expect(call.status, summary(call)).toBe(200);
  expect(call.contentType, summary(call)).toMatch(/^application\/xml/);
  expect(call.kind, summary(call)).toBe("reject");
  expect(call.problems, summary(call)).toEqual([]);
  expect(call.xml, summary(call)).not.toContain("<Dial");
  expect(call.hangupReason, summary(call)).toBe("rejected");
  expect(call.speak, summary(call)).toEqual([message]);
  expect(call.request.elapsedMs, summary(call)).toBeLessThan(ANSWER_DEADLINE_MS);
}

export function expectForbidden(res: SimResponse) {
  const what = `status ${res.status}: ${res.body.slice(0, 300)}`;
  expect(res.status, what).toBe(403);
  expect(res.contentType, what).toMatch(/^application\/problem\+json/);
  expect(JSON.parse(res.body), what).toMatchObject({ code: "forbidden" });
}
