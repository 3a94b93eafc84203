import type { Deps } from "../deps.js";
import { notFound } from "../errors.js";
import * as store from "../stores/calls.js";
import type { CallRow } from "../stores/calls.js";
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

// Every answered call's row was committed before its reply, so reads need not wait for anything.
export async function listCalls(deps: Pick<Deps, "db">, tenantId: string, filter: store.CallFilter) {
  return store.listCalls(deps.db, tenantId, filter);
}

export async function getCall(deps: Pick<Deps, "db">, tenantId: string, id: string) {
  const row = await store.findCall(deps.db, tenantId, id);
  if (!row) throw notFound("Call");
  return toCall(row);
}
