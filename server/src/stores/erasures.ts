/**
 * Erasing one person (services/erasures.ts, docs/privacy.md): the erasure's record, and the statements that find
 * and remove every copy of the person in a tenant. The person is named by blind indexes only (every live key's);
 * each statement is scoped to the tenant and reaches the tenant's tables by their tenant-led keys.
 */
import type { Knex } from "knex";

export type PrivacyJobStatus = "pending" | "running" | "completed" | "failed";

export interface ErasureRow {
  tenant_id: string;
  id: string;
  status: PrivacyJobStatus;
  counts: Record<string, number> | null;
  pending_recordings: string[];
  error: string | null;
  created_at: Date;
  completed_at: Date | null;
}

export async function insertErasure(db: Knex, row: Pick<ErasureRow, "tenant_id" | "id" | "created_at">): Promise<ErasureRow> {
  const [inserted] = await db<ErasureRow>("erasures").insert({ ...row, status: "pending" }).returning("*");
  return inserted!;
}

export async function findErasure(db: Knex, tenantId: string, id: string, opts: { forUpdate?: boolean } = {}): Promise<ErasureRow | undefined> {
  const q = db<ErasureRow>("erasures").where({ tenant_id: tenantId, id }).first();
  if (opts.forUpdate) q.forUpdate();
  return q;
}

export async function listErasures(db: Knex, tenantId: string, page: { limit: number; after?: string }): Promise<ErasureRow[]> {
  const q = db<ErasureRow>("erasures").where({ tenant_id: tenantId }).orderBy("id", "desc").limit(page.limit + 1);
  if (page.after) q.where("id", "<", page.after);
  return q;
}

export async function updateErasure(db: Knex, tenantId: string, id: string, patch: Partial<Omit<ErasureRow, "tenant_id" | "id">>): Promise<void> {
  await db("erasures").where({ tenant_id: tenantId, id }).update(patch);
}

export interface PersonRows {
  participants: Array<{ id: string; session_id: string }>;
}

/** The person's participant rows (any key's blind index), locked for the erasure's transaction. */
export async function lockPersonRows(trx: Knex.Transaction, tenantId: string, bidxs: readonly string[]): Promise<Array<{ id: string; session_id: string }>> {
  return trx("participants")
    .select("id", "session_id")
    .where({ tenant_id: tenantId })
    .whereIn("number_bidx", [...bidxs])
    .orderBy("id")
    .forUpdate();
}

/** The calls in which these participants called or were called (through their sessions' calls index). */
export async function callsOfParticipants(
  trx: Knex.Transaction,
  tenantId: string,
  sessionIds: readonly string[],
  participantIds: readonly string[],
): Promise<string[]> {
  if (sessionIds.length === 0) return [];
  const rows = (await trx("calls")
    .select("id")
    .where({ tenant_id: tenantId })
    .whereIn("session_id", [...sessionIds])
    .where((q) => q.whereIn("from_participant_id", [...participantIds]).orWhereIn("to_participant_id", [...participantIds]))) as Array<{ id: string }>;
  return rows.map((r) => r.id);
}

/** The stored replies of those calls (a bridge's reply names the number dialled), and of their later steps. */
export async function dropStoredReplies(trx: Knex.Transaction, tenantId: string, callIds: readonly string[]): Promise<number> {
  if (callIds.length === 0) return 0;
  const calls = Number(await trx("calls").where({ tenant_id: tenantId }).whereIn("id", [...callIds]).whereNotNull("reply_enc").update({ reply_enc: null }));
  await trx("call_steps").where({ tenant_id: tenantId }).whereIn("call_id", [...callIds]).update({ reply_enc: null });
  return calls;
}

/** The recordings of those calls (their deletion goes to the carrier first: jobs/recording-delete.ts). */
export async function recordingsOfCalls(trx: Knex.Transaction, tenantId: string, callIds: readonly string[]): Promise<string[]> {
  if (callIds.length === 0) return [];
  const rows = (await trx("recordings").select("id").where({ tenant_id: tenantId }).whereIn("call_id", [...callIds])) as Array<{ id: string }>;
  return rows.map((r) => r.id);
}

/** Which of these recordings still exist (the erasure waits for each one's deletion at the carrier). */
export async function remainingRecordings(db: Knex, tenantId: string, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = (await db("recordings").select("id").where({ tenant_id: tenantId }).whereIn("id", [...ids])) as Array<{ id: string }>;
  return rows.map((r) => r.id);
}

/**
 * Events whose payload is one of these sessions, calls or recordings (their delivery attempts go with them, by
 * cascade). A scan of the tenant's events by type: erasures are rare, and run as background jobs.
 */
export async function deleteEventsAbout(
  trx: Knex.Transaction,
  tenantId: string,
  about: { sessions: readonly string[]; calls: readonly string[]; recordings: readonly string[] },
): Promise<number> {
  const { sessions, calls, recordings } = about;
  if (sessions.length + calls.length + recordings.length === 0) return 0;
  const result = await trx.raw<{ rowCount: number }>(
    `DELETE FROM events WHERE tenant_id = ? AND (
       (type LIKE 'session.%' AND data->>'id' = ANY(?::text[]))
       OR (type LIKE 'call.%' AND (data->>'id' = ANY(?::text[]) OR data->>'sessionId' = ANY(?::text[])))
       OR (type = 'recording.completed' AND (data->>'id' = ANY(?::text[]) OR data->>'callId' = ANY(?::text[]))))`,
    [tenantId, [...sessions], [...calls], [...sessions], [...recordings], [...calls]],
  );
  return result.rowCount ?? 0;
}

/** The participant rows lose the number: ciphertext, blind index and masked form; they leave routing for good. */
export async function eraseParticipants(trx: Knex.Transaction, tenantId: string, ids: readonly string[], now: Date): Promise<number> {
  if (ids.length === 0) return 0;
  return trx("participants")
    .where({ tenant_id: tenantId })
    .whereIn("id", [...ids])
    .update({
      number_enc: null,
      number_bidx: null,
      masked_number: null,
      active: false,
      released_at: trx.raw("COALESCE(released_at, ?)", [now]),
      erased_at: now,
    });
}

export async function deletePinLockouts(trx: Knex.Transaction, tenantId: string, bidxs: readonly string[]): Promise<number> {
  // Raw, for its rowCount: knex's delete() answers a count on pg but the driver's result on the embedded database.
  const result = await trx.raw<{ rowCount: number }>("DELETE FROM pin_lockouts WHERE tenant_id = ? AND caller_bidx = ANY(?::text[])", [
    tenantId,
    [...bidxs],
  ]);
  return result.rowCount ?? 0;
}

export async function deleteExportsOf(trx: Knex.Transaction, tenantId: string, bidxs: readonly string[]): Promise<number> {
  const result = await trx.raw<{ rowCount: number }>("DELETE FROM exports WHERE tenant_id = ? AND subject_bidxs && ?::text[]", [
    tenantId,
    [...bidxs],
  ]);
  return result.rowCount ?? 0;
}

export interface SessionText {
  id: string;
  reference: string | null;
  metadata: Record<string, string>;
}

export async function sessionTexts(trx: Knex.Transaction, tenantId: string, ids: readonly string[]): Promise<SessionText[]> {
  if (ids.length === 0) return [];
  return trx("sessions").select("id", "reference", "metadata").where({ tenant_id: tenantId }).whereIn("id", [...ids]);
}

export async function rewriteSessionText(trx: Knex.Transaction, tenantId: string, text: SessionText): Promise<void> {
  await trx("sessions").where({ tenant_id: tenantId, id: text.id }).update({ reference: text.reference, metadata: JSON.stringify(text.metadata) });
}
