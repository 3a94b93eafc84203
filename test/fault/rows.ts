/**
 * Reading call and session rows straight from the owned Postgres, the way an auditor would: no server internals,
 * so the checks hold whether a row is written before the reply or just behind it.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { OwnedPostgres } from "../support/owned/index.js";

export interface CallRowView {
  call_uuid: string;
  decision: string;
  session_id: string | null;
}

export async function callRowsFor(postgres: OwnedPostgres, tenantId: string, callUuids?: string[]): Promise<CallRowView[]> {
  if (callUuids) {
    return postgres.query<CallRowView>(
      "select call_uuid, decision, session_id from calls where tenant_id = $1 and call_uuid = any($2) order by id",
      [tenantId, callUuids],
    );
  }
  return postgres.query<CallRowView>("select call_uuid, decision, session_id from calls where tenant_id = $1 order by id", [tenantId]);
}

export async function countSessionsByReference(postgres: OwnedPostgres, tenantId: string): Promise<Map<string, number>> {
  const rows = await postgres.query<{ reference: string; n: string }>(
    "select reference, count(*) as n from sessions where tenant_id = $1 and reference is not null group by reference",
    [tenantId],
  );
  return new Map(rows.map((r) => [r.reference, Number(r.n)]));
}

/** How long a row may trail the reply it records (rows written behind the answer); longer counts as missing. */
export const ROW_GRACE_MS = 2_000;

/**
 * The rows of these CallUUIDs once `expected` of them are there, or whatever is there after ROW_GRACE_MS. With
 * `expected` 0, one short pause first, so a row that was (wrongly) written just behind a refusal is still seen.
 */
export async function settledCallRows(postgres: OwnedPostgres, tenantId: string, callUuids: string[], expected: number) {
  if (expected === 0) await sleep(100);
  const deadline = Date.now() + ROW_GRACE_MS;
  for (;;) {
    const rows = await callRowsFor(postgres, tenantId, callUuids);
    if (rows.length >= expected || Date.now() >= deadline) return rows;
    await sleep(25);
  }
}
