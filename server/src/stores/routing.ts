/**
 * The answer path's lookups (design.md §4–§5). By the allocation invariant, a (tenant, DID, person) triple is in at
 * most one active participant row, so (caller, dialled DID) names at most one session and the other participant in
 * it. Everything is scoped by the app the webhook URL named: another app's or tenant's DIDs never match.
 */
import type { Knex } from "knex";
import { preparedQuery } from "../db/prepared.js";

export interface ActiveRouteRow {
  session_id: string;
  session_status: "open" | "closed" | "expired";
  session_mode: "two_way" | "one_way";
  expires_at: Date;
  caller_participant_id: string;
  caller_position: number;
  other_participant_id: string;
  other_number_enc: string;
  other_did: string;
}

export interface EndedRouteRow {
  session_id: string;
  session_status: "open" | "closed" | "expired";
  expires_at: Date;
  caller_participant_id: string;
}

export interface RouteKey {
  tenantId: string;
  appId: string;
  /** The dialled DID, E.164. */
  did: string;
  /** Blind index of the caller's E.164 number. */
  callerBidx: string;
}

/**
 * One statement, every step on an index: numbers_active_e164 (tenant, e164) → participants_active_pairing
 * (tenant, DID, person) WHERE active → sessions pkey → participants(session_id) → numbers pkey.
 * Status and expiry are returned, not filtered, so the decision can say *why* a call is refused.
 */
export const ACTIVE_ROUTE_SQL = `
SELECT s.id          AS session_id,
       s.status      AS session_status,
       s.mode        AS session_mode,
       s.expires_at  AS expires_at,
       p.id          AS caller_participant_id,
       p.position    AS caller_position,
       o.id          AS other_participant_id,
       o.number_enc  AS other_number_enc,
       od.e164       AS other_did
  FROM numbers n
  JOIN participants p  ON p.tenant_id = n.tenant_id AND p.proxy_number_id = n.id
                      AND p.number_bidx = $1 AND p.active
  JOIN sessions s      ON s.tenant_id = p.tenant_id AND s.id = p.session_id
  JOIN participants o  ON o.tenant_id = p.tenant_id AND o.session_id = p.session_id AND o.position <> p.position
  JOIN numbers od      ON od.tenant_id = o.tenant_id AND od.id = o.proxy_number_id
 WHERE n.tenant_id = $2 AND n.app_id = $3 AND n.e164 = $4 AND n.status = 'active'
 LIMIT 1`;

/** Reject path only: the caller's most recent released pairing on this DID (participants_person index). */
export const ENDED_ROUTE_SQL = `
SELECT s.id          AS session_id,
       s.status      AS session_status,
       s.expires_at  AS expires_at,
       p.id          AS caller_participant_id
  FROM numbers n
  JOIN participants p  ON p.tenant_id = n.tenant_id AND p.proxy_number_id = n.id
                      AND p.number_bidx = $1 AND NOT p.active
  JOIN sessions s      ON s.tenant_id = p.tenant_id AND s.id = p.session_id
 WHERE n.tenant_id = $2 AND n.app_id = $3 AND n.e164 = $4 AND n.status = 'active'
 ORDER BY p.id DESC
 LIMIT 1`;

const bindings = (key: RouteKey) => [key.callerBidx, key.tenantId, key.appId, key.did];

/** The answer's one round trip: the active route (if any) and the stored reply of this CallUUID (if decided). */
export type AnswerLookupRow = { [K in keyof ActiveRouteRow]: ActiveRouteRow[K] | null } & { earlier_reply_enc: string | null };

/**
 * Always one row. A CallUUID that already has a call row is answered from it whatever Redis remembers (a retry, a
 * replay after FLUSHALL), and the check rides on the routing lookup instead of costing a statement of its own:
 * calls (tenant_id, call_uuid) is a unique index probe.
 */
export const ANSWER_LOOKUP_SQL = `
SELECT r.*, c.reply_enc AS earlier_reply_enc
  FROM (SELECT 1) AS one
  LEFT JOIN LATERAL (${ACTIVE_ROUTE_SQL}) AS r ON true
  LEFT JOIN calls c ON c.tenant_id = $5 AND c.call_uuid = $6`;

export async function findAnswerRoute(db: Knex, key: RouteKey, callUuid: string): Promise<AnswerLookupRow> {
  const { rows } = await preparedQuery<AnswerLookupRow>(db, "answer_lookup", ANSWER_LOOKUP_SQL, [...bindings(key), key.tenantId, callUuid]);
  return rows[0]!;
}

export async function findEndedRoute(db: Knex, key: RouteKey): Promise<EndedRouteRow | undefined> {
  return (await preparedQuery<EndedRouteRow>(db, "route_ended", ENDED_ROUTE_SQL, bindings(key))).rows[0];
}
