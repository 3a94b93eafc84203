import type { Knex } from "knex";
import type { CallDecision } from "../domain/call-decision.js";
import type { CallStatus } from "../domain/carrier-fields.js";
import { callStatusAfterSql, type CallbackEvent } from "../domain/call-flow.js";
import { EVENT_TOPIC, type EventRow } from "./events.js";

/**
 * One row per carrier call, unique per (tenant, CallUUID). Nothing here is a real number in plain text:
 * `proxy_number` is the dialled masking DID, and the XML we replied (which holds the other person's real number when
 * bridged) is kept only encrypted, in `reply_enc`, so a retried webhook gets the very same answer.
 */
export interface CallRow {
  id: string;
  tenant_id: string;
  app_id: string;
  /** Null only for a call Maskline placed whose CallUUID the carrier has not told us yet. */
  call_uuid: string | null;
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
  /** A placed call's own URL secret, hashed (stores/placed-calls.ts). */
  call_secret_hash: string | null;
  updated_at: Date;
}

export type NewCallRow = Omit<
  CallRow,
  "dial_status" | "answered_at" | "ended_at" | "duration_seconds" | "hangup_cause" | "hangup_cause_code" | "updated_at" | "call_secret_hash"
> & { call_uuid: string };

/**
 * Which call a callback is about: the carrier's CallUUID (calls it sent to our app's URLs), or our own id (a call we
 * placed, whose URLs name it), with the CallUUID the callback carried, which a call placed without one takes.
 */
export type CallRef = { callUuid: string } | { id: string; callUuid: string | null };

/** A call's `call.started` event, written only if its row is (stores/events.ts has the outbox side). */
export interface CallStartedEvent {
  callId: string;
  event: EventRow;
}

/**
 * The call log's group write: one statement and one commit for every call decided in the same moment, its
 * `call.started` events and their outbox rows included (a CTE: all of it commits, or none). Rows whose (tenant,
 * CallUUID) is already recorded are skipped, and so are their events; the ids returned are the rows written.
 */
export async function insertCallRows(db: Knex, rows: NewCallRow[], started: CallStartedEvent[] = []): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const insert = db<CallRow>("calls").insert(rows).onConflict(["tenant_id", "call_uuid"]).ignore().returning(["tenant_id", "id"]).toSQL();
  if (started.length === 0) {
    const written = await db.raw<{ rows: Array<{ id: string }> }>(insert.sql, insert.bindings as Knex.RawBinding[]);
    return new Set(written.rows.map((r) => r.id));
  }
  const values = started.map(() => "(?, ?, ?, ?, ?::jsonb, ?::timestamptz)").join(", ");
  const bindings = started.flatMap((s) => [s.event.tenant_id, s.event.id, s.callId, s.event.type, JSON.stringify(s.event.data), s.event.created_at]);
  const written = await db.raw<{ rows: Array<{ id: string }> }>(
    `WITH ins AS (${insert.sql}),
     ev AS (
       INSERT INTO events (tenant_id, id, type, data, created_at)
       SELECT v.tenant_id, v.id, v.type, v.data, v.created_at
         FROM (VALUES ${values}) AS v (tenant_id, id, call_id, type, data, created_at)
         JOIN ins ON ins.tenant_id = v.tenant_id AND ins.id = v.call_id
       RETURNING tenant_id, id, type),
     ob AS (
       INSERT INTO outbox (tenant_id, topic, payload)
       SELECT tenant_id, ?, jsonb_build_object('eventId', id, 'type', type) FROM ev)
     SELECT id FROM ins`,
    [...(insert.bindings as Knex.RawBinding[]), ...bindings, EVENT_TOPIC],
  );
  return new Set(written.rows.map((r) => r.id));
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
export async function recordHangup(db: Knex, tenantId: string, appId: string, call: CallRef, u: HangupUpdate) {
  return updateWithTransitions(db, tenantId, appId, call, {
    status: statusAfter(db, u.event),
    ended_at: u.endedAt,
    answered_at: u.answeredAt ?? (db.raw("c.answered_at") as unknown as Date),
    duration_seconds: u.durationSeconds ?? (db.raw("c.duration_seconds") as unknown as number),
    hangup_cause: u.hangupCause ?? (db.raw("c.hangup_cause") as unknown as string),
    hangup_cause_code: u.hangupCauseCode ?? (db.raw("c.hangup_cause_code") as unknown as string),
    updated_at: db.fn.now() as unknown as Date,
  });
}

/** The call after an update, and which of its milestones this update reached first (for its events). */
export interface CallTransition {
  row: CallRow;
  /** answered_at was empty before this update and is set after it. */
  answeredNow: boolean;
  /** ended_at was empty before this update and is set after it. */
  endedNow: boolean;
}

/**
 * One UPDATE that also reports what it changed: the row is locked and its previous answered_at/ended_at read in
 * the same statement, so two racing callbacks each see the state the other left (the second reaches no milestone).
 * Null when no call has this CallUUID.
 */
async function updateWithTransitions(
  db: Knex,
  tenantId: string,
  appId: string,
  call: CallRef,
  set: Record<string, unknown>,
): Promise<CallTransition | null> {
  const byId = "id" in call;
  const where = byId ? { tenant_id: tenantId, app_id: appId, id: call.id } : { tenant_id: tenantId, app_id: appId, call_uuid: call.callUuid };
  const named = byId && call.callUuid !== null ? { call_uuid: db.raw("COALESCE(c.call_uuid, ?)", [call.callUuid]) } : {};
  const update = db("calls as c")
    .update({ ...set, ...named })
    .updateFrom(
      db("calls").select("tenant_id", "id", "answered_at as before_answered", "ended_at as before_ended")
        .where(where)
        .forUpdate()
        .as("b"),
    )
    .whereRaw("c.tenant_id = b.tenant_id AND c.id = b.id")
    .returning(["c.*", db.raw("b.before_answered"), db.raw("b.before_ended")] as never);
  const [row] = (await update) as Array<CallRow & { before_answered: Date | null; before_ended: Date | null }>;
  if (!row) return null;
  const { before_answered, before_ended, ...after } = row;
  return { row: after, answeredNow: before_answered === null && after.answered_at !== null, endedNow: before_ended === null && after.ended_at !== null };
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
export async function recordDialStatus(db: Knex, tenantId: string, appId: string, call: CallRef, u: DialStatusUpdate) {
  return updateWithTransitions(db, tenantId, appId, call, {
    dial_status: u.dialStatus ?? (db.raw("c.dial_status") as unknown as string),
    status: statusAfter(db, u.event),
    answered_at: db.raw("COALESCE(c.answered_at, ?)", [u.answeredAt]) as unknown as Date,
    hangup_cause: db.raw("COALESCE(c.hangup_cause, ?)", [u.hangupCause]) as unknown as string,
    updated_at: db.fn.now() as unknown as Date,
  });
}

/** The call's status once `event` is applied: the state machine's rule (domain/call-flow.ts), written there once. */
function statusAfter(db: Knex, event: CallbackEvent): CallStatus {
  const { sql, bindings } = callStatusAfterSql("status", event);
  return db.raw(sql, bindings) as unknown as CallStatus;
}

export interface CallFilter {
  sessionId?: string;
  decision?: CallDecision;
  /** Started at or after (RFC 3339). */
  since?: string;
  /** Started before (RFC 3339). */
  until?: string;
  limit: number;
  after?: string;
}

/** Newest first, keyset on id (time-sortable): the (tenant_id, id) and (tenant_id, session_id, id) indexes. */
export async function listCalls(db: Knex, tenantId: string, f: CallFilter): Promise<CallRow[]> {
  const q = db<CallRow>("calls").where({ tenant_id: tenantId }).orderBy("id", "desc").limit(f.limit + 1);
  if (f.after) q.where("id", "<", f.after);
  if (f.sessionId) q.where({ session_id: f.sessionId });
  if (f.decision) q.where({ decision: f.decision });
  if (f.since) q.where("started_at", ">=", new Date(f.since));
  if (f.until) q.where("started_at", "<", new Date(f.until));
  return q;
}
