/**
 * console_sessions (migration 016): the server's half of a web console session. Every statement names the scope
 * (the tenant's id, or 'operator'), the table's tenant column.
 */
import type { Knex } from "knex";

export interface ConsoleSessionRow {
  scope: string;
  id: string;
  kind: "tenant" | "operator";
  api_key_id: string | null;
  credential_fingerprint: string | null;
  created_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
}

/** The row, with what decides whether it still stands: its key's revocation, and its tenant's name. */
export interface ConsoleSessionView extends ConsoleSessionRow {
  key_revoked_at: Date | null;
  key_start: string | null;
  /** False when the key row is gone (it never is, but a missing key must end the session, not keep it). */
  key_found: boolean;
  tenant_name: string | null;
}

export async function insertConsoleSession(db: Knex, row: Omit<ConsoleSessionRow, "revoked_at">): Promise<void> {
  await db<ConsoleSessionRow>("console_sessions").insert(row);
}

/**
 * One read per console request: the session, and for a tenant's session its API key and the tenant's name, each
 * probed by its whole key with the scope bound.
 */
export async function findConsoleSession(db: Knex, scope: string, id: string): Promise<ConsoleSessionView | undefined> {
  const { rows } = await db.raw<{ rows: ConsoleSessionView[] }>(
    `SELECT s.scope, s.id, s.kind, s.api_key_id, s.credential_fingerprint, s.created_at, s.expires_at, s.revoked_at,
            k.revoked_at AS key_revoked_at, k.start AS key_start, (k.id IS NOT NULL) AS key_found, t.name AS tenant_name
       FROM console_sessions s
       LEFT JOIN api_keys k ON k.tenant_id = s.scope AND k.id = s.api_key_id
       LEFT JOIN tenants t ON t.id = s.scope
      WHERE s.scope = ? AND s.id = ?`,
    [scope, id],
  );
  return rows[0];
}

/** Ends a session once; true when this call ended it. */
export async function revokeConsoleSession(db: Knex, scope: string, id: string, at: Date): Promise<boolean> {
  const n = await db<ConsoleSessionRow>("console_sessions").where({ scope, id }).whereNull("revoked_at").update({ revoked_at: at });
  return n > 0;
}

/** Sessions that ended (expired or signed out) over a day ago, a batch at a time (the retention purge). */
export async function purgeEndedConsoleSessions(trx: Knex.Transaction, before: Date, batchSize: number): Promise<number> {
  const result = await trx.raw<{ rowCount: number }>(
    `DELETE FROM console_sessions WHERE (scope, id) IN (
       SELECT scope, id FROM console_sessions WHERE expires_at < ? OR revoked_at < ? LIMIT ?)`,
    [before, before, batchSize],
  );
  return result.rowCount ?? 0;
}
