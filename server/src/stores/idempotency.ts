import type { Knex } from "knex";

export interface IdempotencyRow {
  scope: string;
  key: string;
  operation: string;
  request_hash: string;
  /** Who holds the claim now: set when the key is claimed or taken over; every later write matches on it. */
  claim_token: string;
  status_code: number | null;
  response_enc: string | null;
  created_at: Date;
  claimed_at: Date;
  completed_at: Date | null;
}

export type IdempotencyRef = Pick<IdempotencyRow, "scope" | "key" | "operation">;

/** True when this request claimed the key; false when another request already holds it. */
export async function claimIdempotencyKey(
  db: Knex,
  row: IdempotencyRef & Pick<IdempotencyRow, "request_hash" | "claim_token">,
): Promise<boolean> {
  const inserted = await db<IdempotencyRow>("idempotency_keys")
    .insert(row)
    .onConflict(["scope", "key", "operation"])
    .ignore()
    .returning("scope");
  return inserted.length === 1;
}

/**
 * The key's row, and whether its claim is abandoned (no result, claimed longer ago than `abandonedAfterMs`).
 * Postgres decides the age against its own clock, the same one that wrote claimed_at.
 */
export async function findIdempotencyKey(
  db: Knex,
  ref: IdempotencyRef,
  abandonedAfterMs: number,
): Promise<(IdempotencyRow & { abandoned: boolean }) | undefined> {
  return db<IdempotencyRow>("idempotency_keys")
    .select("*", db.raw("(completed_at IS NULL AND claimed_at < now() - make_interval(secs => ?)) AS abandoned", [abandonedAfterMs / 1000]))
    .where(ref)
    .first();
}

/**
 * Takes over an abandoned claim: exact on the token that was read, so of any number of concurrent takers one
 * wins, and a holder that completed (or another taker) in between makes this a no-op.
 */
export async function takeOverIdempotencyKey(
  db: Knex,
  ref: IdempotencyRef,
  abandonedAfterMs: number,
  fromToken: string,
  toToken: string,
): Promise<boolean> {
  const taken = await db<IdempotencyRow>("idempotency_keys")
    .where(ref)
    .where({ claim_token: fromToken })
    .whereNull("completed_at")
    .whereRaw("claimed_at < now() - make_interval(secs => ?)", [abandonedAfterMs / 1000])
    .update({ claim_token: toToken, claimed_at: db.fn.now() });
  return taken === 1;
}

/** Stores the result if the claim is still this token's. Run inside the operation's transaction, it commits with it. */
export async function completeIdempotencyKey(
  db: Knex,
  ref: IdempotencyRef,
  token: string,
  statusCode: number,
  responseEnc: string,
  subjects: readonly string[] = [],
): Promise<boolean> {
  const completed = await db<IdempotencyRow>("idempotency_keys")
    .where(ref)
    .where({ claim_token: token })
    .whereNull("completed_at")
    .update({ status_code: statusCode, response_enc: responseEnc, completed_at: db.fn.now(), subject_bidxs: [...subjects] } as never);
  return completed === 1;
}

/** An erasure's sweep: the stored requests and results of the tenant that named any of these people. */
export async function deleteIdempotencyKeysNaming(db: Knex, tenantId: string, bidxs: readonly string[]): Promise<number> {
  if (bidxs.length === 0) return 0;
  const result = await db.raw<{ rowCount: number }>("DELETE FROM idempotency_keys WHERE scope = ? AND subject_bidxs && ?::text[]", [tenantId, [...bidxs]]);
  return result.rowCount ?? 0;
}

/** Replaces a stored result, if the claim is still this token's. */
export async function replaceIdempotentResult(
  db: Knex,
  ref: IdempotencyRef,
  token: string,
  statusCode: number,
  responseEnc: string,
): Promise<boolean> {
  const replaced = await db<IdempotencyRow>("idempotency_keys")
    .where(ref)
    .where({ claim_token: token })
    .whereNotNull("completed_at")
    .update({ status_code: statusCode, response_enc: responseEnc });
  return replaced === 1;
}

/** Deletes the key, stored result and all, if the claim is still this token's. */
export async function withdrawIdempotencyKey(db: Knex, ref: IdempotencyRef, token: string): Promise<void> {
  await db<IdempotencyRow>("idempotency_keys").where(ref).where({ claim_token: token }).delete();
}

/** A live request's heartbeat: its claim stays fresh, so only a request that died is ever taken for abandoned. */
export async function renewIdempotencyKey(db: Knex, ref: IdempotencyRef, token: string): Promise<void> {
  await db<IdempotencyRow>("idempotency_keys")
    .where({ ...ref, claim_token: token })
    .whereNull("completed_at")
    .update({ claimed_at: db.fn.now() as unknown as Date });
}

/** Lets the key run again, unless the claim was taken over or already holds a result. */
export async function releaseIdempotencyKey(db: Knex, ref: IdempotencyRef, token: string) {
  await db<IdempotencyRow>("idempotency_keys").where(ref).where({ claim_token: token }).whereNull("completed_at").delete();
}
