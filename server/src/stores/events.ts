/**
 * Events (migration 011): each is written with an outbox row (topic `event`) in the transaction of the change it
 * describes, so it exists, and will be delivered, exactly when that change commits.
 */
import type { Knex } from "knex";
import type { EventType } from "../domain/events.js";

export interface EventRow {
  tenant_id: string;
  id: string;
  type: EventType;
  data: Record<string, unknown>;
  created_at: Date;
}

export const EVENT_TOPIC = "event";

/** The outbox payload of an event: enough to find it. */
export interface EventOutboxPayload {
  eventId: string;
  type: EventType;
}

/** Writes the events and their outbox rows in one statement (so also atomically outside a transaction). */
export async function insertEvents(db: Knex | Knex.Transaction, rows: EventRow[]): Promise<void> {
  if (rows.length === 0) return;
  const values = rows.map(() => "(?, ?, ?, ?::jsonb, ?::timestamptz)").join(", ");
  const bindings = rows.flatMap((r) => [r.tenant_id, r.id, r.type, JSON.stringify(r.data), r.created_at]);
  await db.raw(
    `WITH ev AS (
       INSERT INTO events (tenant_id, id, type, data, created_at) VALUES ${values}
       RETURNING tenant_id, id, type)
     INSERT INTO outbox (tenant_id, topic, payload)
     SELECT tenant_id, ?, jsonb_build_object('eventId', id, 'type', type) FROM ev`,
    [...bindings, EVENT_TOPIC],
  );
}

export async function findEvent(db: Knex, tenantId: string, id: string): Promise<EventRow | undefined> {
  return db<EventRow>("events").where({ tenant_id: tenantId, id }).first();
}

export async function findEvents(db: Knex, keys: Array<{ tenantId: string; id: string }>): Promise<EventRow[]> {
  if (keys.length === 0) return [];
  return db<EventRow>("events").whereIn(["tenant_id", "id"], keys.map((k) => [k.tenantId, k.id]));
}

export interface EventFilter {
  type?: EventType;
  limit: number;
  after?: string;
}

/** Newest first, keyset on the time-sortable id: the primary key, or events_type with a type. */
export async function listEvents(db: Knex, tenantId: string, f: EventFilter): Promise<EventRow[]> {
  const q = db<EventRow>("events").where({ tenant_id: tenantId }).orderBy("id", "desc").limit(f.limit + 1);
  if (f.type) q.where({ type: f.type });
  if (f.after) q.where("id", "<", f.after);
  return q;
}

/**
 * `pool.exhausted` at most once per interval per pool, across replicas: the mark moves (and the caller writes the
 * event) only when the last one is older than `everyMs`. True when this caller moved it.
 */
export async function claimPoolAlert(db: Knex | Knex.Transaction, tenantId: string, pool: string, now: Date, everyMs: number): Promise<boolean> {
  const result = await db.raw<{ rows: unknown[] }>(
    `INSERT INTO pool_alerts AS a (tenant_id, pool, exhausted_at) VALUES (?, ?, ?)
     ON CONFLICT (tenant_id, pool) DO UPDATE SET exhausted_at = excluded.exhausted_at
      WHERE a.exhausted_at <= excluded.exhausted_at - make_interval(secs => ?)
     RETURNING pool`,
    [tenantId, pool, now, everyMs / 1000],
  );
  return result.rows.length > 0;
}
