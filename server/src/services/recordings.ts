/**
 * Recordings with consent (docs/call-flows.md, "Recording"): a recorded call's `<Record>` callback creates the
 * Recording and says `recording.completed`; the API lists and reads them, streams the audio through Maskline
 * (fetched from the carrier with the app's credentials, never a link that works without the tenant's key) and
 * deletes them at the carrier first, then here. The retention purge queues the same deletion for old ones.
 *
 * The callback's body is not signed (only its URL is), so nothing in it is fetched: the audio is always found
 * through the carrier's API by the recording's id, with the app's own credentials.
 */
import type { Logger } from "pino";
import type { Deps } from "../deps.js";
import { AppError, notFound } from "../errors.js";
import { newId } from "../crypto/ids.js";
import { callUuidOf, parseSeconds, shortText, type CarrierFields } from "../domain/carrier-fields.js";
import type { Deadline } from "../time/deadline.js";
import type { AppRow } from "../stores/apps.js";
import * as store from "../stores/recordings.js";
import type { RecordingRow } from "../stores/recordings.js";
import { lockCallOfApp } from "../stores/call-steps.js";
import type { CarrierAccount, RecordingMedia } from "../carrier/carrier.js";
import { carrierFailure } from "./carrier-errors.js";
import { newEventRow, recordEvents } from "./events.js";
import { iso, type Schemas } from "./shapes.js";

export type Recording = Schemas["Recording"];

/** The job that deletes a recording at the carrier, then here (jobs/recording-delete.ts). */
export const RECORDING_DELETE_KIND = "recording.delete";

/** The job deleting one recording; one per recording however often the purge (or an erasure) asks for it. */
export function recordingDeletion(tenantId: string, recordingId: string) {
  return { kind: RECORDING_DELETE_KIND, tenantId, payload: { recordingId }, dedupeKey: `${RECORDING_DELETE_KIND}:${tenantId}:${recordingId}` };
}

export function toRecording(row: RecordingRow): Recording {
  return {
    id: row.id,
    callId: row.call_id,
    sessionId: row.session_id,
    durationSeconds: row.duration_seconds === null ? null : Number(row.duration_seconds),
    format: row.format,
    createdAt: iso(new Date(row.created_at)),
  };
}

/** Seconds from the callback: RecordingDuration, else RecordingDurationMs rounded up; null when neither says. */
function durationOf(fields: CarrierFields): number | null {
  const seconds = parseSeconds(fields.RecordingDuration);
  if (seconds !== null) return seconds;
  const ms = parseSeconds(fields.RecordingDurationMs);
  return ms === null ? null : Math.ceil(ms / 1000);
}

/**
 * The `<Record>` callback: records the recording against its call (once, however often the carrier retries) and
 * says `recording.completed` in the same transaction. False when it names no call of this app (ignored).
 */
export async function recordRecording(
  deps: Pick<Deps, "db" | "clock">,
  app: AppRow,
  fields: CarrierFields,
  deadline: Deadline,
  log: Logger,
): Promise<boolean> {
  const callUuid = callUuidOf(fields);
  const carrierId = shortText(fields.RecordingID, 128);
  if (!callUuid || !carrierId) {
    log.info({ appId: app.id }, "recording callback without a CallUUID or RecordingID: ignored");
    return false;
  }
  const recorded = await deadline.run(
    deps.db.transaction(async (trx) => {
      const call = await lockCallOfApp(trx, app.tenant_id, app.id, { callUuid });
      if (!call) return null;
      const now = deps.clock.now();
      const row = await store.insertRecording(trx, {
        tenant_id: app.tenant_id,
        id: newId("rec"),
        app_id: app.id,
        call_id: call.id,
        session_id: call.session_id,
        carrier_recording_id: carrierId,
        duration_seconds: durationOf(fields),
        format: fields.RecordingFormat?.trim().toLowerCase() === "wav" ? "wav" : "mp3",
        created_at: now,
      });
      if (row) await recordEvents(trx, [newEventRow(app.tenant_id, "recording.completed", toRecording(row), now)]);
      return { call: call.id, row };
    }),
  );
  if (!recorded) log.info({ appId: app.id, callUuid }, "recording callback for an unknown call: ignored");
  else if (recorded.row) log.info({ appId: app.id, callId: recorded.call, recordingId: recorded.row.id }, "recording stored");
  return recorded !== null;
}

export async function listRecordings(deps: Pick<Deps, "db">, tenantId: string, filter: store.RecordingFilter) {
  return store.listRecordings(deps.db, tenantId, filter);
}

export async function getRecording(deps: Pick<Deps, "db">, tenantId: string, id: string): Promise<Recording> {
  const row = await store.findRecording(deps.db, tenantId, id);
  if (!row) throw notFound("Recording");
  return toRecording(row);
}

type CarrierDeps = Pick<Deps, "db" | "appCache" | "carrier">;

/** The carrier account of the app that made the recording (its auth token decrypted, from the app cache). */
async function accountOf(deps: Pick<Deps, "appCache">, row: RecordingRow): Promise<CarrierAccount> {
  const app = await deps.appCache.get(row.app_id);
  if (!app || app.row.tenant_id !== row.tenant_id) throw new AppError("not_found", "The recording's app no longer exists.");
  return { authId: app.row.vobiz_auth_id, authToken: app.authToken };
}

/** The audio, streamed from the carrier: its format's media type and, when the carrier says, its length. */
export async function recordingMedia(deps: CarrierDeps, tenantId: string, id: string): Promise<RecordingMedia & { format: RecordingRow["format"] }> {
  const row = await store.findRecording(deps.db, tenantId, id);
  if (!row) throw notFound("Recording");
  const account = await accountOf(deps, row);
  try {
    const found = await deps.carrier.getRecording(account, row.carrier_recording_id);
    const media = await deps.carrier.fetchRecordingMedia(account, found);
    return { ...media, format: row.format };
  } catch (err) {
    throw carrierFailure(err, "The recording could not be fetched from the carrier");
  }
}

/** Deletes the recording at the carrier (one it no longer has counts as deleted), then here. Repeatable. */
export async function deleteRecording(deps: CarrierDeps, tenantId: string, id: string): Promise<void> {
  const row = await store.findRecording(deps.db, tenantId, id);
  if (!row) throw notFound("Recording");
  await deleteAtCarrierThenHere(deps, row);
}

/** The deletion the API and the retention purge's job share: the carrier's copy first, then the row. */
export async function deleteAtCarrierThenHere(deps: CarrierDeps, row: RecordingRow): Promise<void> {
  const account = await accountOf(deps, row);
  try {
    await deps.carrier.deleteRecording(account, row.carrier_recording_id);
  } catch (err) {
    throw carrierFailure(err, "The carrier did not delete the recording; it is kept here until it does");
  }
  await store.deleteRecordingRow(deps.db, row.tenant_id, row.id);
}

/** The recording row, for the purge's deletion job (which must not fail on one deleted since it was queued). */
export async function findRecordingRow(deps: Pick<Deps, "db">, tenantId: string, id: string): Promise<RecordingRow | undefined> {
  return store.findRecording(deps.db, tenantId, id);
}
