/**
 * The answer path's lookups (docs/architecture.md, "The allocation invariant" and "A call"). By the allocation invariant, a (tenant, DID, person) triple is in at
 * most one active participant row, so (caller, dialled DID) names at most one session and the other participant in
 * it. Everything is scoped by the app the webhook URL named: another app's or tenant's DIDs never match.
 */
import type { Knex } from "knex";
import type { SessionMode } from "@maskline/openapi/constants";
import { preparedQuery } from "../db/prepared.js";
import type { SessionStatus } from "../domain/session-state.js";

export interface ActiveRouteRow {
  session_id: string;
  session_status: SessionStatus;
  session_mode: SessionMode;
  session_recording: boolean;
  expires_at: Date;
  caller_participant_id: string;
  caller_position: number;
  other_participant_id: string;
  other_number_enc: string;
  other_did: string;
}

export interface EndedRouteRow {
  session_id: string;
  session_status: SessionStatus;
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

/*
 * How the routing statements are written, and why (hardening finding 5). They run as named prepared statements,
 * so after five executions Postgres keeps one generic plan per connection, made from what it knew then: on a new
 * database, tables of a few rows and no statistics. Without statistics `tenant_id = $n` looks as selective as a
 * primary key, so the plain five-way join this used to be was kept as "every open session of the tenant, then
 * filter", and answers slowed down as sessions accumulated (ANALYZE re-planned it). Planning per execution is no
 * cure: without statistics the custom plans picked the tenant-only index too, and planning that join cost
 * 1.5–2 ms a call against 0.2 ms to execute it.
 *
 * So every step is a lookup by a key that no statistics can make look worse than the alternatives:
 *   - the steps are LATERAL subqueries with LIMIT 1, which the planner can neither reorder nor flatten: the join
 *     order is the one written, each step a nested-loop probe with the previous step's values;
 *   - inside a step the only conditions are the whole key of the index meant for it (the DID's claim by e164, a
 *     row by its primary key (tenant, id), the pairing by tenant + DID + person, a session's participants by
 *     tenant + session id). Every key leads with tenant_id (migration 009), so a step also matches the tenant-only
 *     prefix of the table's other indexes. With statistics the meant index is cheaper; on tiny unanalyzed tables
 *     every candidate estimates one row and they tie, which migration 009 settles by building each meant index
 *     after the ones it ties with (its comment says why that decides it);
 *   - the app and status checks sit in the ON clauses, outside the LIMIT, where they cannot become an index
 *     condition (a "status = 'open'" partial index is what the cached plans chose) but still filter each row.
 * test/integration/plan-stability.test.ts holds them to that on a database grown from empty without ANALYZE.
 */

/**
 * The dialled DID is found through its global claim (number_claims, primary key e164: an active number has exactly
 * one, written and deleted in the same transaction as the number's status), then: numbers pkey → the caller's
 * active pairing on it (participants_person_active / _active_pairing, whose predicate leaves out PIN-routed rows:
 * a PIN session is reached by its PIN, never by who calls) → sessions pkey → participants by
 * (tenant_id, session_id) → numbers pkey. Status and expiry are returned, not filtered, so the decision can say
 * *why* a call is refused.
 * Another step goes after the last one as `LEFT JOIN LATERAL (… LIMIT 1) x ON true`; its placeholders then come
 * next in text order, as preparedQuery requires.
 */
export const ACTIVE_ROUTE_SQL = `
SELECT s.id          AS session_id,
       s.status      AS session_status,
       s.mode        AS session_mode,
       s.recording   AS session_recording,
       s.expires_at  AS expires_at,
       p.id          AS caller_participant_id,
       p.position    AS caller_position,
       o.id          AS other_participant_id,
       o.number_enc  AS other_number_enc,
       od.e164       AS other_did
  FROM (SELECT number_id FROM number_claims WHERE e164 = $1 LIMIT 1) c
  JOIN LATERAL (SELECT id, app_id, status FROM numbers WHERE tenant_id = $2 AND id = c.number_id LIMIT 1) n
    ON n.app_id = $3 AND n.status = 'active'
  JOIN LATERAL (SELECT id, session_id, position FROM participants
                 WHERE tenant_id = $4 AND proxy_number_id = n.id AND number_bidx = $5 AND active AND pin_hash IS NULL
                 LIMIT 1) p ON true
  JOIN LATERAL (SELECT id, status, mode, recording, expires_at FROM sessions WHERE tenant_id = $6 AND id = p.session_id LIMIT 1) s
    ON true
  JOIN LATERAL (SELECT id, number_enc, proxy_number_id FROM participants
                 WHERE tenant_id = $7 AND session_id = p.session_id AND position <> p.position LIMIT 1) o
    ON true
  JOIN LATERAL (SELECT e164 FROM numbers WHERE tenant_id = $8 AND id = o.proxy_number_id LIMIT 1) od
    ON true`;

/**
 * Reject path only: the caller's most recent released pairing on this DID, newest first along participants_person
 * (tenant, person, id DESC): it walks that one person's history, never the tenant's.
 */
export const ENDED_ROUTE_SQL = `
SELECT s.id          AS session_id,
       s.status      AS session_status,
       s.expires_at  AS expires_at,
       p.id          AS caller_participant_id
  FROM (SELECT number_id FROM number_claims WHERE e164 = $1 LIMIT 1) c
  JOIN LATERAL (SELECT id, app_id, status FROM numbers WHERE tenant_id = $2 AND id = c.number_id LIMIT 1) n
    ON n.app_id = $3 AND n.status = 'active'
  JOIN LATERAL (SELECT id, session_id FROM participants
                 WHERE tenant_id = $4 AND number_bidx = $5 AND proxy_number_id = n.id AND NOT active
                 ORDER BY id DESC LIMIT 1) p ON true
  JOIN LATERAL (SELECT id, status, expires_at FROM sessions WHERE tenant_id = $6 AND id = p.session_id LIMIT 1) s
    ON true`;

// The tenant is bound in every tenant table's probe rather than carried from step to step: a statement whose every
// access names the same tenant value is one Citus routes to a single shard (docs/scaling.md).
const activeBindings = (k: RouteKey) => [k.did, k.tenantId, k.appId, k.tenantId, k.callerBidx, k.tenantId, k.tenantId, k.tenantId];
const endedBindings = (k: RouteKey) => [k.did, k.tenantId, k.appId, k.tenantId, k.callerBidx, k.tenantId];

/** The answer's one round trip: the active route (if any) and the stored reply of this CallUUID (if decided). */
export type AnswerLookupRow = { [K in keyof ActiveRouteRow]: ActiveRouteRow[K] | null } & { earlier_reply_enc: string | null };

/**
 * Always one row. A CallUUID that already has a call row is answered from it whatever Redis remembers (a retry, a
 * replay after FLUSHALL), and the check rides on the routing lookup instead of costing a statement of its own. As
 * in the route's steps, the probe binds the whole key of the index meant for it, calls_call_uuid_tenant
 * (call_uuid, tenant_id; migrations 007 and 009), so no statistics turn it into a walk of the tenant's calls.
 */
export const ANSWER_LOOKUP_SQL = `
SELECT r.*, c.reply_enc AS earlier_reply_enc
  FROM (SELECT 1) AS one
  LEFT JOIN LATERAL (${ACTIVE_ROUTE_SQL}) AS r ON true
  LEFT JOIN LATERAL (SELECT reply_enc FROM calls WHERE call_uuid = $9 AND tenant_id = $10 LIMIT 1) AS c ON true`;

export async function findAnswerRoute(db: Knex, key: RouteKey, callUuid: string): Promise<AnswerLookupRow> {
  const values = [...activeBindings(key), callUuid, key.tenantId];
  const { rows } = await preparedQuery<AnswerLookupRow>(db, "answer_lookup", ANSWER_LOOKUP_SQL, values);
  return rows[0]!;
}

export async function findEndedRoute(db: Knex, key: RouteKey): Promise<EndedRouteRow | undefined> {
  return (await preparedQuery<EndedRouteRow>(db, "route_ended", ENDED_ROUTE_SQL, endedBindings(key))).rows[0];
}
