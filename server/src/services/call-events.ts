/**
 * What the carrier tells us after the answer: the end-of-call notice (at the hangup URL, or at the answer URL when the
 * application has none) and the `<Dial action>` callback. Both only update the call row the answer wrote before it
 * replied; a CallUUID we never answered is acknowledged and ignored. Both are idempotent: a repeated notice leaves
 * the same row. Each is an event of the call's state machine (domain/call-flow.ts); the store applies the machine's
 * rule for it (callStatusAfterSql) in one UPDATE without reading the call first (the two callbacks race each other).
 */
import type { Knex } from "knex";
import type { Logger } from "pino";
import type { Deps } from "../deps.js";
import {
  callStatusOf,
  callUuidOf,
  dialStatusOf,
  hangupCauseCodeOf,
  parseCarrierTime,
  parseSeconds,
  shortText,
  type CarrierFields,
} from "../domain/carrier-fields.js";
import { liveStatusAfter } from "../domain/call-flow.js";
import type { Deadline } from "../time/deadline.js";
import type { AppRow } from "../stores/apps.js";
import * as calls from "../stores/calls.js";
import { toCall } from "./calls.js";
import { newEventRow, recordEvents } from "./events.js";

/**
 * Applies one callback's update and, in its transaction, the events of the milestones it reached first:
 * `call.answered` when it set the answer time, `call.completed` when it set the end. A repeated or late callback
 * reaches none, so each event is written once per call.
 */
async function updateWithEvents(
  deps: Pick<Deps, "db" | "clock">,
  update: (trx: Knex.Transaction) => Promise<calls.CallTransition | null>,
): Promise<boolean> {
  return deps.db.transaction(async (trx) => {
    const change = await update(trx);
    if (!change) return false;
    const now = deps.clock.now();
    const call = toCall(change.row);
    const events = [];
    if (change.answeredNow) events.push(newEventRow(change.row.tenant_id, "call.answered", call, now));
    if (change.endedNow) events.push(newEventRow(change.row.tenant_id, "call.completed", call, now));
    await recordEvents(trx, events);
    return true;
  });
}

/**
 * Records an end-of-call notice; false when the call is unknown (nothing written). `placedCallId` names a call
 * Maskline placed (its own hangup URL carries the id): it is found by id, and takes the notice's CallUUID if the
 * carrier's answer to placing it never arrived.
 */
export async function recordHangup(
  deps: Pick<Deps, "db" | "clock">,
  app: AppRow,
  fields: CarrierFields,
  deadline: Deadline,
  log: Logger,
  placedCallId?: string,
): Promise<boolean> {
  const callUuid = callUuidOf(fields);
  if (!callUuid && placedCallId === undefined) {
    log.debug({ appId: app.id }, "hangup notice without a CallUUID: ignored");
    return false;
  }
  const ref: calls.CallRef = placedCallId === undefined ? { callUuid: callUuid! } : { id: placedCallId, callUuid };
  const event = { type: "hangup", status: callStatusOf(fields.CallStatus, "completed") } as const;
  const status = liveStatusAfter(event);
  const updated = await deadline.run(
    updateWithEvents(deps, (trx) => calls.recordHangup(trx, app.tenant_id, app.id, ref, {
      event,
      endedAt: parseCarrierTime(fields.EndTime) ?? deps.clock.now(),
      answeredAt: parseCarrierTime(fields.AnswerTime),
      durationSeconds: parseSeconds(fields.Duration),
      hangupCause: shortText(fields.HangupCauseName) ?? shortText(fields.HangupCause),
      // The name is often NORMAL_CLEARING on calls that did not clear normally; the code says what happened.
      hangupCauseCode: hangupCauseCodeOf(fields.HangupCauseCode),
    })),
  );
  if (updated) log.info({ appId: app.id, callUuid, status }, "call ended");
  else log.debug({ appId: app.id, callUuid }, "hangup notice for an unknown CallUUID: ignored");
  return updated;
}

/** Records the `<Dial>` outcome; false when the CallUUID is unknown (nothing written). */
export async function recordDialStatus(
  deps: Pick<Deps, "db" | "clock">,
  app: AppRow,
  fields: CarrierFields,
  deadline: Deadline,
  log: Logger,
): Promise<boolean> {
  const callUuid = callUuidOf(fields);
  if (!callUuid) {
    log.debug({ appId: app.id }, "dial-status callback without a CallUUID: ignored");
    return false;
  }
  const dialStatus = dialStatusOf(fields.DialStatus, fields.DialBLegUUID);
  const status = fields.CallStatus === undefined ? null : callStatusOf(fields.CallStatus, "in-progress");
  // The B-leg was answered when the Dial completed with a B-leg and billable time. The hangup notice's AnswerTime is
  // exact and replaces this estimate; here the B-leg's duration, when the carrier sends one, dates the answer back.
  const billed =
    parseSeconds(fields.DialBLegBillDuration) ?? parseSeconds(fields.DialBLegDuration) ?? parseSeconds(fields.BillDuration);
  let answeredAt: Date | null = null;
  if (dialStatus === "completed" && billed !== null && billed > 0) {
    const talked = parseSeconds(fields.DialBLegDuration) ?? 0;
    answeredAt = new Date(deps.clock.now().getTime() - talked * 1000);
  }
  const updated = await deadline.run(
    updateWithEvents(deps, (trx) => calls.recordDialStatus(trx, app.tenant_id, app.id, { callUuid }, {
      dialStatus,
      event: { type: "dial-status", status },
      answeredAt,
      hangupCause: shortText(fields.DialHangupCause),
    })),
  );
  if (updated) log.info({ appId: app.id, callUuid, dialStatus }, "dial outcome recorded");
  else log.debug({ appId: app.id, callUuid }, "dial-status for an unknown CallUUID: ignored");
  return updated;
}
