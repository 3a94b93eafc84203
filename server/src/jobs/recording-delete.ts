/**
 * A recording past its tenant's retention, deleted where its audio is: at the carrier first, then its row here
 * (services/recordings.ts). The retention purge queues one job per recording (deduplicated), so a carrier that is
 * down delays the deletion, with retries and backoff, but never loses it; one deleted meanwhile is done already.
 */
import { findRecordingRow, deleteAtCarrierThenHere, RECORDING_DELETE_KIND } from "../services/recordings.js";
import type { ExternalJobKind } from "./kinds.js";

export const recordingDeleteJob: ExternalJobKind = {
  kind: RECORDING_DELETE_KIND,
  transactional: false,
  // The carrier's own 10 s bound, and the row's delete after it.
  timeoutMs: 30_000,
  // A carrier outage must not make a recording outlive its retention for good: retried for about two days (hourly
  // once the backoff reaches its cap), then dead for the operator to look at (docs/architecture.md's queries).
  maxAttempts: 60,
  async run(job, deps) {
    const recordingId = String(job.payload.recordingId ?? "");
    const row = await findRecordingRow(deps, job.tenant_id!, recordingId);
    if (!row) return;
    await deleteAtCarrierThenHere(deps, row);
    deps.logger.info({ tenantId: row.tenant_id, recordingId: row.id }, "recording past retention deleted at the carrier and here");
  },
};
