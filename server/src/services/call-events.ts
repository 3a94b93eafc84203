/**
 * What the carrier tells us after the answer: the end-of-call notice (at the hangup URL, or at the answer URL when the
 * application has none) and the `<Dial action>` callback. Both only update the call row the answer created; a
 * CallUUID we never answered is acknowledged and ignored. Both are idempotent: a repeated notice leaves the same row.
 */
import type { Logger } from "pino";
import type { Deps } from "../deps.js";
import {
  callStatusOf,
  dialStatusOf,
  parseCarrierTime,
  parseSeconds,
  shortText,
  TERMINAL_CALL_STATUSES,
  type CallStatus,
} from "../domain/call-decision.js";
import type { AppRow } from "../stores/apps.js";
import * as calls from "../stores/calls.js";
import { MAX_CALL_UUID_LENGTH, type CallbackFields, type Deadline } from "./answer.js";

/**
 * Call rows are written a few milliseconds behind the answer, possibly by another replica. A notice that finds no
 * row for a CallUUID that was answered waits for the row (flushing this replica's queue) and tries again.
 */
async function updateWhenRecorded(
  deps: Pick<Deps, "callLog">,
  tenantId: string,
  callUuid: string,
  deadline: Deadline,
  update: () => Promise<boolean>,
): Promise<boolean> {
  for (let attempt = 0; ; attempt++) {
    if (await deadline.run(update())) return true;
    if (attempt >= 20 || !(await deadline.run(deps.callLog.isPending(tenantId, callUuid)))) return false;
    await deadline.run(deps.callLog.flush());
    if (attempt > 0) await new Promise((r) => setTimeout(r, 25));
  }
}

function callUuidOf(fields: CallbackFields): string | null {
  const v = fields.CallUUID?.trim();
  return v && v.length <= MAX_CALL_UUID_LENGTH ? v : null;
}

/** Records an end-of-call notice; false when the CallUUID is unknown (nothing written). */
export async function recordHangup(
  deps: Pick<Deps, "db" | "clock" | "callLog">,
  app: AppRow,
  fields: CallbackFields,
  deadline: Deadline,
  log: Logger,
): Promise<boolean> {
  const callUuid = callUuidOf(fields);
  if (!callUuid) {
    log.debug({ appId: app.id }, "hangup notice without a CallUUID: ignored");
    return false;
  }
  // A hangup notice ends the call whatever status it carries; a live status there would be a carrier quirk.
  const reported = callStatusOf(fields.CallStatus, "completed");
  const status: CallStatus = (TERMINAL_CALL_STATUSES as readonly string[]).includes(reported) ? reported : "completed";
  const endedAt = parseCarrierTime(fields.EndTime) ?? deps.clock.now();
  const updated = await updateWhenRecorded(deps, app.tenant_id, callUuid, deadline, () =>
    calls.recordHangup(deps.db, app.tenant_id, app.id, callUuid, {
      status,
      endedAt,
      answeredAt: parseCarrierTime(fields.AnswerTime),
      durationSeconds: parseSeconds(fields.Duration),
      hangupCause: shortText(fields.HangupCauseName) ?? shortText(fields.HangupCause),
    }),
  );
  if (updated) log.info({ appId: app.id, callUuid, status }, "call ended");
  else log.debug({ appId: app.id, callUuid }, "hangup notice for an unknown CallUUID: ignored");
  return updated;
}

/** Records the `<Dial>` outcome; false when the CallUUID is unknown (nothing written). */
export async function recordDialStatus(
  deps: Pick<Deps, "db" | "clock" | "callLog">,
  app: AppRow,
  fields: CallbackFields,
  deadline: Deadline,
  log: Logger,
): Promise<boolean> {
  const callUuid = callUuidOf(fields);
  if (!callUuid) {
    log.debug({ appId: app.id }, "dial-status callback without a CallUUID: ignored");
    return false;
  }
  const dialStatus = dialStatusOf(fields.DialStatus);
  const status = fields.CallStatus === undefined ? null : callStatusOf(fields.CallStatus, "in-progress");
  // The B-leg was answered when the Dial completed with billable time. The hangup notice's AnswerTime is exact and
  // replaces this estimate; here the B-leg's duration, when the carrier sends one, dates the answer back.
  const billed =
    parseSeconds(fields.DialBLegBillDuration) ?? parseSeconds(fields.DialBLegDuration) ?? parseSeconds(fields.BillDuration);
  let answeredAt: Date | null = null;
  if (dialStatus === "completed" && billed !== null && billed > 0) {
    const talked = parseSeconds(fields.DialBLegDuration) ?? 0;
    answeredAt = new Date(deps.clock.now().getTime() - talked * 1000);
  }
  const updated = await updateWhenRecorded(deps, app.tenant_id, callUuid, deadline, () =>
    calls.recordDialStatus(deps.db, app.tenant_id, app.id, callUuid, {
      dialStatus,
      status,
      answeredAt,
      hangupCause: shortText(fields.DialHangupCause),
    }),
  );
  if (updated) log.info({ appId: app.id, callUuid, dialStatus }, "dial outcome recorded");
  else log.debug({ appId: app.id, callUuid }, "dial-status for an unknown CallUUID: ignored");
  return updated;
}
