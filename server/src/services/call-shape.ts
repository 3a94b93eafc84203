/** The Call resource as the API (and its events) show it; no deps, so the call log can use it without a cycle. */
import type { CallRow, NewCallRow } from "../stores/calls.js";
import { iso, isoOrNull, type Schemas } from "./shapes.js";

/**
 * A call as the API shows it. Built field by field from an allow-list: `reply_enc` (the XML, which names a real
 * number when bridged) never leaves the store, and `proxyNumber` is the masking DID, not a person's number.
 */
export function toCall(row: CallRow): Schemas["Call"] {
  return {
    id: row.id,
    callUuid: row.call_uuid,
    appId: row.app_id,
    direction: row.direction,
    sessionId: row.session_id,
    proxyNumber: row.proxy_number,
    fromParticipantId: row.from_participant_id,
    toParticipantId: row.to_participant_id,
    decision: row.decision,
    status: row.status,
    dialStatus: row.dial_status,
    startedAt: iso(new Date(row.started_at)),
    answeredAt: isoOrNull(row.answered_at ? new Date(row.answered_at) : null),
    endedAt: isoOrNull(row.ended_at ? new Date(row.ended_at) : null),
    durationSeconds: row.duration_seconds === null ? null : Number(row.duration_seconds),
    hangupCause: row.hangup_cause,
    hangupCauseCode: row.hangup_cause_code,
  };
}

/** A call as the API shows it the moment its row is first written (nothing after the answer known yet). */
export function startedCall(row: NewCallRow): Schemas["Call"] {
  return toCall({
    ...row,
    dial_status: null,
    answered_at: null,
    ended_at: null,
    duration_seconds: null,
    hangup_cause: null,
    hangup_cause_code: null,
    updated_at: row.started_at,
  } as CallRow);
}

