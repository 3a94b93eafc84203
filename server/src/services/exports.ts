/**
 * Exporting what a tenant holds about one person, for an access request (docs/privacy.md, "Export"):
 * `POST /v1/exports {number}` records the request and queues `privacy.export`, which lists the person's sessions and
 * calls (ids, times, decisions, their own masked number), never another person's number, and stores the result
 * encrypted. It is purged a week later. Neither the record nor the job keeps the number: only its blind indexes.
 */
import type { Knex } from "knex";
import type { Deps } from "../deps.js";
import { notFound } from "../errors.js";
import { newId } from "../crypto/ids.js";
import { maskNumber } from "../phone/numbers.js";
import { sessionStatusAt } from "../domain/session-state.js";
import { enqueueJob } from "../stores/jobs.js";
import * as store from "../stores/exports.js";
import type { ExportRow } from "../stores/exports.js";
import type { StoreResult } from "./idempotency.js";
import { personOf } from "./erasures.js";
import { iso, isoOrNull, type Schemas } from "./shapes.js";

export const EXPORT_KIND = "privacy.export";
/** How long an export's result is kept. */
export const EXPORT_KEPT_MS = 7 * 86_400_000;

type Export = Schemas["Export"];
type ExportResult = Schemas["ExportResult"];

export interface ExportPayload {
  exportId: string;
  /** The person's masked number, for the result even when nothing is held about them. */
  maskedNumber: string;
}

export function toExport(deps: Pick<Deps, "keys">, row: ExportRow): Export {
  return {
    id: row.id,
    status: row.status,
    createdAt: iso(new Date(row.created_at)),
    completedAt: isoOrNull(row.completed_at ? new Date(row.completed_at) : null),
    result: row.status === "completed" && row.result_enc ? (JSON.parse(deps.keys.decrypt(row.result_enc)) as ExportResult) : null,
  };
}

export async function requestExport(
  deps: Pick<Deps, "db" | "keys" | "clock">,
  tenantId: string,
  input: Schemas["PersonRequest"],
  storeResult?: StoreResult<Export>,
): Promise<Export> {
  const e164 = personOf(input);
  const bidxs = deps.keys.blindIndexes(e164);
  return deps.db.transaction(async (trx) => {
    const now = deps.clock.now();
    const row = await store.insertExport(trx, { tenant_id: tenantId, id: newId("exp"), subject_bidxs: bidxs, created_at: now });
    const payload: ExportPayload = { exportId: row.id, maskedNumber: maskNumber(e164) };
    await enqueueJob(trx, { kind: EXPORT_KIND, tenantId, payload: { ...payload }, runAt: now, dedupeKey: `${EXPORT_KIND}:${tenantId}:${row.id}` });
    const answer = toExport(deps, row);
    await storeResult?.(trx, answer, bidxs);
    return answer;
  });
}

export async function getExport(deps: Pick<Deps, "db" | "keys">, tenantId: string, id: string): Promise<Export> {
  const row = await store.findExport(deps.db, tenantId, id);
  if (!row) throw notFound("Export");
  return toExport(deps, row);
}

/** The export's job: the person's sessions and calls, as they are now, stored encrypted. */
export async function runExport(deps: Pick<Deps, "keys" | "clock">, trx: Knex.Transaction, tenantId: string, payload: Record<string, unknown>): Promise<void> {
  const { exportId, maskedNumber } = payload as unknown as ExportPayload;
  const row = await store.findExport(trx, tenantId, exportId, { forUpdate: true });
  if (!row || row.status === "completed") return;
  const now = deps.clock.now();
  const mine = await store.participantsOfPerson(trx, tenantId, row.subject_bidxs);
  const bySession = new Map(mine.map((p) => [p.session_id, p]));
  const ids = new Set(mine.map((p) => p.id));
  const sessions = await store.sessionsByIds(trx, tenantId, [...bySession.keys()]);
  const calls = await store.callsOfPerson(trx, tenantId, [...bySession.keys()], [...ids]);
  const result: ExportResult = {
    maskedNumber: mine.find((p) => p.masked_number)?.masked_number ?? maskedNumber,
    sessions: sessions.map((s) => {
      const me = bySession.get(s.id)!;
      return {
        id: s.id,
        status: sessionStatusAt(s, now),
        routing: s.routing,
        mode: s.mode,
        reference: s.reference,
        createdAt: iso(new Date(s.created_at)),
        expiresAt: iso(new Date(s.expires_at)),
        closedAt: isoOrNull(s.closed_at ? new Date(s.closed_at) : null),
        participantId: me.id,
        label: me.label,
        proxyNumber: me.proxy_e164,
      };
    }),
    calls: calls.map((c) => ({
      id: c.id,
      sessionId: c.session_id,
      role: c.from_participant_id !== null && ids.has(c.from_participant_id) ? ("caller" as const) : ("callee" as const),
      direction: c.direction,
      decision: c.decision,
      status: c.status,
      startedAt: iso(new Date(c.started_at)),
      answeredAt: isoOrNull(c.answered_at ? new Date(c.answered_at) : null),
      endedAt: isoOrNull(c.ended_at ? new Date(c.ended_at) : null),
      durationSeconds: c.duration_seconds === null ? null : Number(c.duration_seconds),
    })),
  };
  await store.completeExport(trx, tenantId, exportId, deps.keys.encrypt(JSON.stringify(result)), now);
}
