/**
 * The steps of a carrier conversation after its first answer (a PIN attempt, the answer of a call Maskline placed),
 * each keyed (tenant, call, step) with the reply it got (encrypted: a bridge names a real number). Claiming a step
 * is an insert: the first request for it owns it until its transaction ends, a concurrent retry waits on the key
 * and then finds the step done, and every later retry gets the same bytes. So each step happens once.
 */
import type { Knex } from "knex";
import type { CallRow } from "./calls.js";

export type StepClaim = { claimed: true } | { claimed: false; replyEnc: string | null };

/** Claims `step` of the call in the caller's transaction, or returns the reply it already got. */
export async function claimCallStep(trx: Knex.Transaction, tenantId: string, callId: string, step: string, now: Date): Promise<StepClaim> {
  const inserted = await trx("call_steps")
    .insert({ tenant_id: tenantId, call_id: callId, step, created_at: now })
    .onConflict(["tenant_id", "call_id", "step"])
    .ignore()
    .returning("step");
  if (inserted.length === 1) return { claimed: true };
  const row = (await trx("call_steps").where({ tenant_id: tenantId, call_id: callId, step }).first("reply_enc")) as
    | { reply_enc: string | null }
    | undefined;
  return { claimed: false, replyEnc: row?.reply_enc ?? null };
}

/** The reply of a step this transaction claimed. */
export async function completeCallStep(trx: Knex.Transaction, tenantId: string, callId: string, step: string, replyEnc: string): Promise<void> {
  await trx("call_steps").where({ tenant_id: tenantId, call_id: callId, step }).update({ reply_enc: replyEnc });
}

/** The call a step is about, locked for the step's transaction: by CallUUID, or by our id (a call we placed). */
export async function lockCallOfApp(
  trx: Knex.Transaction,
  tenantId: string,
  appId: string,
  ref: { callUuid: string } | { id: string },
): Promise<CallRow | undefined> {
  const where = "id" in ref ? { tenant_id: tenantId, app_id: appId, id: ref.id } : { tenant_id: tenantId, app_id: appId, call_uuid: ref.callUuid };
  return trx<CallRow>("calls").where(where).forUpdate().first();
}

export type CallDecisionPatch = Partial<
  Pick<CallRow, "decision" | "status" | "session_id" | "from_participant_id" | "to_participant_id" | "call_uuid" | "proxy_number">
>;

/** What a step decided, on the call's row; the row as it is afterwards. */
export async function updateCallDecision(trx: Knex.Transaction, tenantId: string, callId: string, patch: CallDecisionPatch): Promise<CallRow> {
  const [row] = await trx<CallRow>("calls")
    .where({ tenant_id: tenantId, id: callId })
    .update({ ...patch, updated_at: trx.fn.now() as unknown as Date })
    .returning("*");
  return row!;
}

/** A call of this app by our id (the placed-call callbacks' path names it). */
export async function findCallOfApp(db: Knex, tenantId: string, appId: string, id: string): Promise<CallRow | undefined> {
  return db<CallRow>("calls").where({ tenant_id: tenantId, app_id: appId, id }).first();
}
