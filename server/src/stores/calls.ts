import type { Knex } from "knex";
import type { CallDecision } from "../domain/call-decision.js";
import type { CallStatus } from "../domain/carrier-fields.js";
import { callStatusAfterSql, type CallbackEvent } from "../domain/call-flow.js";

/**
 * One row per carrier call, unique per (tenant, CallUUID). Nothing here is a real number in plain text:
 * `proxy_number` is the dialled masking DID, and the XML we replied (which holds the other person's real number when
 * bridged) is kept only encrypted, in `reply_enc`, so a retried webhook gets the very same answer.
 */
export interface CallRow {
  id: string;
  tenant_id: string;
  app_id: string;
  call_uuid: string;
  direction: "inbound" | "outbound";
  session_id: string | null;
  proxy_number: string | null;
  from_participant_id: string | null;
  to_participant_id: string | null;
  decision: CallDecision;
  status: CallStatus;
  dial_status: string | null;
  reply_enc: string | null;
  started_at: Date;
  answered_at: Date | null;
  ended_at: Date | null;
  duration_seconds: number | null;
  hangup_cause: string | null;
  hangup_cause_code: string | null;
  updated_at: Date;
}

export type NewCallRow = Omit<
  CallRow,
  "dial_status" | "answered_at" | "ended_at" | "duration_seconds" | "hangup_cause" | "hangup_cause_code" | "updated_at"
>;

/**
 * The call log's group write: one statement and one commit for every call decided in the same moment. Rows whose
 * (tenant, CallUUID) is already recorded are skipped; the ids returned are the rows this statement wrote.
 */
export async function insertCallRows(db: Knex, rows: NewCallRow[]): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const written = await db<CallRow>("calls").insert(rows).onConflict(["tenant_id", "call_uuid"]).ignore().returning("id");
  return new Set(written.map((r) => r.id));
}

/** The stored replies of already-recorded calls, keyed `tenant_id + " " + call_uuid`. */
export async function findCallReplies(db: Knex, keys: Array<{ tenant_id: string; call_uuid: string }>) {
  if (keys.length === 0) return new Map<string, string | null>();
  const rows = await db<CallRow>("calls")
    .select("tenant_id", "call_uuid", "reply_enc")
    .whereIn(["tenant_id", "call_uuid"], keys.map((k) => [k.tenant_id, k.call_uuid]));
  return new Map(rows.map((r) => [`${r.tenant_id} ${r.call_uuid}`, r.reply_enc]));
}

export async function findCall(db: Knex, tenantId: string, id: string): Promise<CallRow | undefined> {
  return db<CallRow>("calls").where({ tenant_id: tenantId, id }).first();
}

export interface HangupUpdate {
  event: Extract<CallbackEvent, { type: "hangup" }>;
  endedAt: Date;
  answeredAt: Date | null;
  durationSeconds: number | null;
  hangupCause: string | null;
  hangupCauseCode: string | null;
}

/**
 * The end-of-call notice. Idempotent: the same notice twice leaves the same row. The A-leg's cause is the call's
 * cause, so it replaces whatever the dial-status callback put there; absent fields keep what is stored.
 * Returns false when no call has this CallUUID (nothing is written).
 */
export async function recordHangup(db: Knex, tenantId: string, appId: string, callUuid: string, u: HangupUpdate) {
  const count = await db<CallRow>("calls")
    .where({ tenant_id: tenantId, app_id: appId, call_uuid: callUuid })
    .update({
      status: statusAfter(db, u.event),
      ended_at: u.endedAt,
      answered_at: u.answeredAt ?? (db.raw("answered_at") as unknown as Date),
      duration_seconds: u.durationSeconds ?? (db.raw("duration_seconds") as unknown as number),
      hangup_cause: u.hangupCause ?? (db.raw("hangup_cause") as unknown as string),
      hangup_cause_code: u.hangupCauseCode ?? (db.raw("hangup_cause_code") as unknown as string),
      updated_at: db.fn.now() as unknown as Date,
    });
  return count > 0;
}

export interface DialStatusUpdate {
  dialStatus: string | null;
  /** With the CallStatus sent with the callback, if any; it never moves an ended call (domain/call-flow.ts). */
  event: Extract<CallbackEvent, { type: "dial-status" }>;
  answeredAt: Date | null;
  hangupCause: string | null;
}

/**
 * The `<Dial action>` callback. It may arrive before or after the hangup notice, so it only fills what the hangup
 * notice has not settled: answered_at and hangup_cause only when still empty, status only while the call is live.
 */
export async function recordDialStatus(db: Knex, tenantId: string, appId: string, callUuid: string, u: DialStatusUpdate) {
  const count = await db<CallRow>("calls")
    .where({ tenant_id: tenantId, app_id: appId, call_uuid: callUuid })
    .update({
      dial_status: u.dialStatus ?? (db.raw("dial_status") as unknown as string),
      status: statusAfter(db, u.event),
      answered_at: db.raw("COALESCE(answered_at, ?)", [u.answeredAt]) as unknown as Date,
      hangup_cause: db.raw("COALESCE(hangup_cause, ?)", [u.hangupCause]) as unknown as string,
      updated_at: db.fn.now() as unknown as Date,
    });
  return count > 0;
}

/** The call's status once `event` is applied: the state machine's rule (domain/call-flow.ts), written there once. */
function statusAfter(db: Knex, event: CallbackEvent): CallStatus {
  const { sql, bindings } = callStatusAfterSql("status", event);
  return db.raw(sql, bindings) as unknown as CallStatus;
}

export interface CallFilter {
  sessionId?: string;
  decision?: CallDecision;
  limit: number;
  after?: string;
}

/** Newest first, keyset on id (time-sortable): the (tenant_id, id) and (tenant_id, session_id, id) indexes. */
export async function listCalls(db: Knex, tenantId: string, f: CallFilter): Promise<CallRow[]> {
  const q = db<CallRow>("calls").where({ tenant_id: tenantId }).orderBy("id", "desc").limit(f.limit + 1);
  if (f.after) q.where("id", "<", f.after);
  if (f.sessionId) q.where({ session_id: f.sessionId });
  if (f.decision) q.where({ decision: f.decision });
  return q;
}
