/**
 * Calls Maskline places itself (click-to-call, docs/call-flows.md): the row written before the carrier is asked,
 * what the carrier's answer settles on it, and what the call's answer URL needs to bridge the other participant.
 */
import type { Knex } from "knex";
import type { CallRow } from "./calls.js";
import type { SessionRow } from "./sessions.js";

export type NewPlacedCall = Pick<
  CallRow,
  "id" | "tenant_id" | "app_id" | "session_id" | "proxy_number" | "from_participant_id" | "to_participant_id" | "started_at" | "call_secret_hash"
>;

/** The call as it is before the carrier is asked: outbound, `initiated`, its decision pending, no CallUUID yet. */
export async function insertPlacedCall(db: Knex | Knex.Transaction, row: NewPlacedCall): Promise<CallRow> {
  const [inserted] = await db<CallRow>("calls")
    .insert({ ...row, call_uuid: null, direction: "outbound", decision: "pending", status: "initiated", reply_enc: null })
    .returning("*");
  return inserted!;
}

/**
 * What the carrier's answer to placing it settles: its CallUUID (unless a callback named it first) and its status,
 * only while it is still `initiated` (a callback that came first knows better). The row as it is afterwards.
 */
export async function settlePlacedCall(
  db: Knex | Knex.Transaction,
  tenantId: string,
  id: string,
  settled: { callUuid: string | null; status: "initiated" | "failed" | "unknown"; endedAt?: Date; hangupCause?: string },
): Promise<CallRow> {
  const [row] = await db<CallRow>("calls")
    .where({ tenant_id: tenantId, id })
    .update({
      call_uuid: db.raw("COALESCE(call_uuid, ?)", [settled.callUuid]) as unknown as string,
      status: db.raw("CASE WHEN status = 'initiated' THEN ? ELSE status END", [settled.status]) as unknown as CallRow["status"],
      ...(settled.endedAt ? { ended_at: db.raw("COALESCE(ended_at, ?)", [settled.endedAt]) as unknown as Date } : {}),
      ...(settled.hangupCause ? { hangup_cause: settled.hangupCause } : {}),
      updated_at: db.fn.now() as unknown as Date,
    })
    .returning("*");
  return row!;
}

export interface PlacedCallTarget {
  session: SessionRow;
  /** The participant dialled once the first one answers. */
  other_number_enc: string;
  other_active: boolean;
  /** Their own masking DID: the caller ID they see. */
  other_did: string;
}

/** The session of a placed call and the participant to bridge (by their row id), with their DID. */
export async function findPlacedCallTarget(
  db: Knex | Knex.Transaction,
  tenantId: string,
  sessionId: string,
  participantId: string,
): Promise<PlacedCallTarget | undefined> {
  const session = await db<SessionRow>("sessions").where({ tenant_id: tenantId, id: sessionId }).first();
  if (!session) return undefined;
  const other = (await db("participants as p")
    .join("numbers as n", (j) => j.on("n.tenant_id", "p.tenant_id").andOn("n.id", "p.proxy_number_id"))
    .where({ "p.tenant_id": tenantId, "p.session_id": sessionId, "p.id": participantId })
    .first("p.number_enc", "p.active", "n.e164")) as { number_enc: string; active: boolean; e164: string } | undefined;
  if (!other) return undefined;
  return { session, other_number_enc: other.number_enc, other_active: other.active, other_did: other.e164 };
}

export interface SessionParticipantRow {
  id: string;
  position: number;
  number_enc: string;
  active: boolean;
  proxy_e164: string;
}

/** Both participants of a session, with their real numbers (encrypted) and DIDs: who to ring, and from where. */
export async function sessionParticipants(db: Knex, tenantId: string, sessionId: string): Promise<SessionParticipantRow[]> {
  return db("participants as p")
    .join("numbers as n", (j) => j.on("n.tenant_id", "p.tenant_id").andOn("n.id", "p.proxy_number_id"))
    .where({ "p.tenant_id": tenantId, "p.session_id": sessionId })
    .select("p.id", "p.position", "p.number_enc", "p.active", "n.e164 as proxy_e164")
    .orderBy("p.position");
}
