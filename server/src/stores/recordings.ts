/**
 * Recordings (migration 013): what the carrier recorded, by the carrier's id; the audio itself stays at the carrier
 * and is streamed through on request (services/recordings.ts). Deleting one is the carrier's delete first, then
 * this row's, so nothing here can be forgotten while its audio still exists there.
 */
import type { Knex } from "knex";
import { retentionDaysSql } from "../domain/tenant-settings.js";

export interface RecordingRow {
  tenant_id: string;
  id: string;
  app_id: string;
  call_id: string;
  session_id: string | null;
  carrier_recording_id: string;
  duration_seconds: number | null;
  format: "mp3" | "wav";
  created_at: Date;
}

/** The row, unless the carrier's recording is already recorded (its callback retried): then null. */
export async function insertRecording(db: Knex | Knex.Transaction, row: RecordingRow): Promise<RecordingRow | null> {
  const [inserted] = await db<RecordingRow>("recordings")
    .insert(row)
    .onConflict(["tenant_id", "carrier_recording_id"])
    .ignore()
    .returning("*");
  return inserted ?? null;
}

export async function findRecording(db: Knex, tenantId: string, id: string): Promise<RecordingRow | undefined> {
  return db<RecordingRow>("recordings").where({ tenant_id: tenantId, id }).first();
}

export interface RecordingFilter {
  sessionId?: string;
  callId?: string;
  limit: number;
  after?: string;
}

/** Newest first, keyset on the time-sortable id (recordings_session / recordings_call when filtered). */
export async function listRecordings(db: Knex, tenantId: string, f: RecordingFilter): Promise<RecordingRow[]> {
  const q = db<RecordingRow>("recordings").where({ tenant_id: tenantId }).orderBy("id", "desc").limit(f.limit + 1);
  if (f.sessionId) q.where({ session_id: f.sessionId });
  if (f.callId) q.where({ call_id: f.callId });
  if (f.after) q.where("id", "<", f.after);
  return q;
}

export async function deleteRecordingRow(db: Knex, tenantId: string, id: string): Promise<boolean> {
  // Raw, for its rowCount: knex's delete() answers a count on pg but the driver's result on the embedded database.
  const result = await db.raw<{ rowCount: number }>("DELETE FROM recordings WHERE tenant_id = ? AND id = ?", [tenantId, id]);
  return (result.rowCount ?? 0) > 0;
}

/**
 * Recordings past their tenant's retention (counted from when they were made), per tenant then by the
 * recordings_created_at range: the purge queues each one's deletion at the carrier.
 */
export async function recordingsPastRetention(
  trx: Knex.Transaction,
  now: Date,
  defaultDays: number,
  limit: number,
): Promise<Array<{ tenant_id: string; id: string }>> {
  const retention = `make_interval(days => ${retentionDaysSql("t.settings", "?::int")})`;
  const { rows } = await trx.raw<{ rows: Array<{ tenant_id: string; id: string }> }>(
    `SELECT r.tenant_id, r.id FROM tenants t
       JOIN LATERAL (
         SELECT tenant_id, id FROM recordings r
          WHERE r.tenant_id = t.id AND r.created_at < ?::timestamptz - ${retention}
          LIMIT ?) r ON true
      LIMIT ?`,
    [now, defaultDays, limit, limit],
  );
  return rows;
}
