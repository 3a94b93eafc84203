/**
 * What a master-key rotation re-encrypts (jobs/rekey.ts, docs/privacy.md "Key rotation"): every encrypted column,
 * walked in primary-key order across tenants, a batch at a time. A row is rewritten only if it still holds what was
 * read (an optimistic check), so a write of the service's in between is never overwritten.
 */
import type { Knex } from "knex";

export interface EncryptedColumn {
  /** How progress and remaining counts name it. */
  name: string;
  table: string;
  column: string;
  /** The primary key, in index order: the walk's cursor. */
  key: readonly string[];
  /** A blind index made from the same plaintext, re-made with it. */
  bidx?: string;
}

export const ENCRYPTED_COLUMNS: readonly EncryptedColumn[] = [
  { name: "participants", table: "participants", column: "number_enc", key: ["tenant_id", "id"], bidx: "number_bidx" },
  { name: "appTokens", table: "apps", column: "auth_token_enc", key: ["tenant_id", "id"] },
  { name: "webhookSecrets", table: "webhook_endpoints", column: "secret_enc", key: ["tenant_id", "id"] },
  { name: "previousWebhookSecrets", table: "webhook_endpoints", column: "previous_secret_enc", key: ["tenant_id", "id"] },
  { name: "callReplies", table: "calls", column: "reply_enc", key: ["tenant_id", "id"] },
  { name: "callStepReplies", table: "call_steps", column: "reply_enc", key: ["tenant_id", "call_id", "step"] },
  { name: "idempotentResults", table: "idempotency_keys", column: "response_enc", key: ["scope", "key", "operation"] },
  { name: "exports", table: "exports", column: "result_enc", key: ["tenant_id", "id"] },
];

export type Cursor = string[] | null;

export interface EncryptedValue {
  key: string[];
  value: string;
}

/** The next batch of non-null values after `cursor`, in key order (values under the current key included). */
export async function encryptedBatch(db: Knex, col: EncryptedColumn, cursor: Cursor, limit: number): Promise<EncryptedValue[]> {
  const keys = col.key.map((k) => `"${k}"`).join(", ");
  const after = cursor ? `AND (${keys}) > (${col.key.map(() => "?").join(", ")})` : "";
  const { rows } = await db.raw<{ rows: Array<Record<string, string>> }>(
    `SELECT ${keys}, "${col.column}" AS value FROM "${col.table}"
      WHERE "${col.column}" IS NOT NULL ${after}
      ORDER BY ${keys} LIMIT ?`,
    [...(cursor ?? []), limit],
  );
  return rows.map((r) => ({ key: col.key.map((k) => String(r[k])), value: r.value! }));
}

/** Rewrites one value (and its blind index), if it is still the one read. */
export async function rewriteEncrypted(db: Knex, col: EncryptedColumn, row: EncryptedValue, value: string, bidx?: string): Promise<boolean> {
  const set = [`"${col.column}" = ?`, ...(col.bidx && bidx !== undefined ? [`"${col.bidx}" = ?`] : [])].join(", ");
  const where = col.key.map((k) => `"${k}" = ?`).join(" AND ");
  const result = await db.raw<{ rowCount: number }>(
    `UPDATE "${col.table}" SET ${set} WHERE ${where} AND "${col.column}" = ?`,
    [value, ...(col.bidx && bidx !== undefined ? [bidx] : []), ...row.key, row.value],
  );
  return (result.rowCount ?? 0) === 1;
}

/** Values of the column not under the current key (`current` is its ciphertext prefix, `v1.<keyId>.`). */
export async function countUnderPreviousKeys(db: Knex, col: EncryptedColumn, current: string): Promise<number> {
  const { rows } = await db.raw<{ rows: Array<{ n: string }> }>(
    `SELECT count(*) AS n FROM "${col.table}" WHERE "${col.column}" IS NOT NULL AND "${col.column}" NOT LIKE ?`,
    [`${current}%`],
  );
  return Number(rows[0]!.n);
}

/** Live PIN hashes made under another key: they cannot be re-made without the PIN (they are, when it is keyed). */
export async function countPinHashesUnderPreviousKeys(db: Knex, keyId: string): Promise<number> {
  const { rows } = await db.raw<{ rows: Array<{ n: string }> }>(
    "SELECT count(*) AS n FROM participants WHERE active AND pin_hash IS NOT NULL AND pin_key_id IS DISTINCT FROM ?",
    [keyId],
  );
  return Number(rows[0]!.n);
}

/** Queued erasures carry the number encrypted (to find it in free text): those under another key. */
export async function pendingErasurePayloads(db: Knex, kind: string): Promise<Array<{ id: number; number_enc: string }>> {
  const { rows } = await db.raw<{ rows: Array<{ id: number; number_enc: string }> }>(
    `SELECT id, payload->>'numberEnc' AS number_enc FROM jobs
      WHERE kind = ? AND status IN ('queued', 'failed', 'running') AND payload->>'numberEnc' IS NOT NULL`,
    [kind],
  );
  return rows;
}

export async function rewriteErasurePayload(db: Knex, id: number, numberEnc: string): Promise<void> {
  await db.raw(`UPDATE jobs SET payload = jsonb_set(payload, '{numberEnc}', to_jsonb(?::text)) WHERE id = ?`, [numberEnc, id]);
}
