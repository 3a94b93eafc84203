/**
 * Exports of what a tenant holds about one person (services/exports.ts): the request's record with its result
 * encrypted, and the reads that build the result, by the person's blind indexes.
 */
import type { Knex } from "knex";
import type { PrivacyJobStatus } from "./erasures.js";
import type { CallRow } from "./calls.js";
import type { SessionRow } from "./sessions.js";

export interface ExportRow {
  tenant_id: string;
  id: string;
  status: PrivacyJobStatus;
  subject_bidxs: string[];
  result_enc: string | null;
  error: string | null;
  created_at: Date;
  completed_at: Date | null;
}

export async function insertExport(db: Knex, row: Pick<ExportRow, "tenant_id" | "id" | "subject_bidxs" | "created_at">): Promise<ExportRow> {
  const [inserted] = await db<ExportRow>("exports").insert({ ...row, status: "pending" }).returning("*");
  return inserted!;
}

export async function findExport(db: Knex, tenantId: string, id: string, opts: { forUpdate?: boolean } = {}): Promise<ExportRow | undefined> {
  const q = db<ExportRow>("exports").where({ tenant_id: tenantId, id }).first();
  if (opts.forUpdate) q.forUpdate();
  return q;
}

export async function completeExport(db: Knex, tenantId: string, id: string, resultEnc: string, now: Date): Promise<void> {
  await db("exports").where({ tenant_id: tenantId, id }).update({ status: "completed", result_enc: resultEnc, completed_at: now });
}

export interface PersonParticipant {
  id: string;
  session_id: string;
  label: string | null;
  masked_number: string | null;
  proxy_e164: string;
}

/** The person's participant rows (any key's blind index), with the DID each dialled. */
export async function participantsOfPerson(db: Knex, tenantId: string, bidxs: readonly string[]): Promise<PersonParticipant[]> {
  return db("participants as p")
    .join("numbers as n", (j) => j.on("n.tenant_id", "p.tenant_id").andOn("n.id", "p.proxy_number_id"))
    .select("p.id", "p.session_id", "p.label", "p.masked_number", "n.e164 as proxy_e164")
    .where("p.tenant_id", tenantId)
    .whereIn("p.number_bidx", [...bidxs])
    .orderBy("p.id");
}

export async function sessionsByIds(db: Knex, tenantId: string, ids: readonly string[]): Promise<SessionRow[]> {
  if (ids.length === 0) return [];
  return db<SessionRow>("sessions").where({ tenant_id: tenantId }).whereIn("id", [...ids]).orderBy("id");
}

/** The calls these participants made or took, through their sessions' calls. */
export async function callsOfPerson(db: Knex, tenantId: string, sessionIds: readonly string[], participantIds: readonly string[]): Promise<CallRow[]> {
  if (sessionIds.length === 0) return [];
  return db<CallRow>("calls")
    .where({ tenant_id: tenantId })
    .whereIn("session_id", [...sessionIds])
    .where((q) => q.whereIn("from_participant_id", [...participantIds]).orWhereIn("to_participant_id", [...participantIds]))
    .orderBy("id");
}

/** Exports kept past `before` are deleted (an access request's answer is kept a week, not for good). */
export async function purgeOldExports(trx: Knex.Transaction, before: Date, limit: number): Promise<number> {
  const result = await trx.raw<{ rowCount: number }>(
    `DELETE FROM exports WHERE (tenant_id, id) IN (SELECT tenant_id, id FROM exports WHERE created_at < ? LIMIT ?)`,
    [before, limit],
  );
  return result.rowCount ?? 0;
}
