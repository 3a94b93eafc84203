import type { Knex } from "knex";

export interface IdempotencyRow {
  scope: string;
  key: string;
  operation: string;
  request_hash: string;
  status_code: number | null;
  response_enc: string | null;
  created_at: Date;
  completed_at: Date | null;
}

type Ref = Pick<IdempotencyRow, "scope" | "key" | "operation">;

/** True when this request claimed the key; false when another request already holds it. */
export async function claimIdempotencyKey(db: Knex, row: Ref & { request_hash: string }): Promise<boolean> {
  const inserted = await db<IdempotencyRow>("idempotency_keys")
    .insert(row)
    .onConflict(["scope", "key", "operation"])
    .ignore()
    .returning("scope");
  return inserted.length === 1;
}

export async function findIdempotencyKey(db: Knex, ref: Ref) {
  return db<IdempotencyRow>("idempotency_keys").where(ref).first();
}

export async function completeIdempotencyKey(db: Knex, ref: Ref, statusCode: number, responseEnc: string, at: Date) {
  await db<IdempotencyRow>("idempotency_keys")
    .where(ref)
    .update({ status_code: statusCode, response_enc: responseEnc, completed_at: at });
}

export async function releaseIdempotencyKey(db: Knex, ref: Ref, createdAt?: Date) {
  const q = db<IdempotencyRow>("idempotency_keys").where(ref).whereNull("completed_at");
  if (createdAt) q.where("created_at", createdAt);
  await q.delete();
}

export async function purgeIdempotencyKeys(db: Knex, olderThan: Date): Promise<number> {
  return db<IdempotencyRow>("idempotency_keys").where("created_at", "<", olderThan).delete();
}
