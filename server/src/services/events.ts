/**
 * Events to the tenant: built from the API's own shapes (never a real number), written with the change they
 * describe (stores/events.ts writes each with its outbox row), listed and redelivered. Delivery itself is the job
 * runner's (jobs/webhook-delivery.ts).
 */
import type { Knex } from "knex";
import type { Logger } from "pino";
import type { Deps } from "../deps.js";
import { notFound } from "../errors.js";
import { POOL_EXHAUSTED_EVERY_MS } from "../domain/events.js";
import * as store from "../stores/events.js";
import type { EventRow } from "../stores/events.js";
import { enqueueJob, type NewJob } from "../stores/jobs.js";
import { subscribedEndpoints } from "../stores/webhook-endpoints.js";
import { iso, type Schemas } from "./shapes.js";
import { newEventRow } from "./event-rows.js";

export { newEventRow } from "./event-rows.js";

export type Event = Schemas["Event"];
export const WEBHOOK_DELIVERY_KIND = "webhook.deliver";
/** Deliveries to one endpoint in flight at once, across replicas: a slow receiver holds only its own slots. */
export const DELIVERIES_PER_ENDPOINT = 4;

/** Records events in the caller's transaction (the change's own). */
export function recordEvents(trx: Knex.Transaction, rows: EventRow[]): Promise<void> {
  return store.insertEvents(trx, rows);
}

export function toEvent(row: EventRow): Event {
  return { id: row.id, type: row.type, createdAt: iso(new Date(row.created_at)), data: row.data } as Event;
}

/** The job that delivers one event to one endpoint; its queue key bounds the endpoint's concurrency. */
export function deliveryJob(tenantId: string, eventId: string, endpointId: string): NewJob {
  return {
    kind: WEBHOOK_DELIVERY_KIND,
    tenantId,
    queueKey: `webhook:${tenantId}:${endpointId}`,
    payload: { eventId, endpointId },
  };
}

export async function listEvents(deps: Pick<Deps, "db">, tenantId: string, filter: store.EventFilter) {
  return store.listEvents(deps.db, tenantId, filter);
}

export async function getEvent(deps: Pick<Deps, "db">, tenantId: string, id: string): Promise<Event> {
  const row = await store.findEvent(deps.db, tenantId, id);
  if (!row) throw notFound("Event");
  return toEvent(row);
}

/** Queues the event again for every enabled endpoint that wants it: a fresh delivery each, same webhook-id. */
export async function redeliverEvent(deps: Pick<Deps, "db" | "clock">, tenantId: string, id: string) {
  return deps.db.transaction(async (trx) => {
    const row = await store.findEvent(trx, tenantId, id);
    if (!row) throw notFound("Event");
    const endpoints = await subscribedEndpoints(trx, tenantId, row.type);
    const now = deps.clock.now();
    for (const e of endpoints) await enqueueJob(trx, { ...deliveryJob(tenantId, row.id, e.id), runAt: now });
    return { eventId: row.id, endpoints: endpoints.length };
  });
}

/**
 * A create refused for want of a DID says `pool.exhausted`, at most once a minute per pool across replicas. The
 * refusal wrote nothing, so this is its own small transaction; a failure here never changes the refusal's answer.
 */
export async function notePoolExhausted(
  deps: Pick<Deps, "db" | "clock">,
  tenantId: string,
  data: Schemas["PoolExhaustedData"],
  log: Logger,
): Promise<void> {
  try {
    await deps.db.transaction(async (trx) => {
      const now = deps.clock.now();
      if (await store.claimPoolAlert(trx, tenantId, data.pool, now, POOL_EXHAUSTED_EVERY_MS)) {
        await store.insertEvents(trx, [newEventRow(tenantId, "pool.exhausted", data, now)]);
      }
    });
  } catch (err) {
    log.warn({ err, tenantId, pool: data.pool }, "pool.exhausted event not recorded");
  }
}
