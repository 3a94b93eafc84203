/**
 * The outbox's dispatcher: a recurring job that turns pending outbox rows into their jobs. The jobs and the row's
 * dispatched mark commit in the dispatcher's one transaction, so each row becomes its jobs exactly once, whichever
 * replica runs it and however it crashes. Only topics this replica knows are taken: a row of a topic added by a
 * newer release waits for a replica that knows it, rather than being marked done with no jobs.
 */
import { enqueueJob } from "../stores/jobs.js";
import { lockPendingOutbox, markDispatched } from "../stores/outbox.js";
import type { OutboxTopic, TransactionalJobKind } from "./kinds.js";

const BATCH = 200;
/** How soon a recorded change starts its jobs (the first webhook attempt, say): about a second. */
export const OUTBOX_DISPATCH_EVERY_MS = 1_000;

/** The dispatcher for `topics`; `kind` names its (singleton) job row. */
export function outboxDispatchJob(topics: ReadonlyMap<string, OutboxTopic>, kind = "outbox.dispatch"): TransactionalJobKind {
  const names = [...topics.keys()];
  return {
    kind,
    transactional: true,
    everyMs: () => OUTBOX_DISPATCH_EVERY_MS,
    // Short, so that after a crash mid-dispatch the row's lease (timeout + margin) frees it within seconds.
    timeoutMs: 10_000,
    async run(trx, _job, deps) {
      const rows = await lockPendingOutbox(trx, names, BATCH);
      const now = deps.clock.now();
      for (const row of rows) {
        const specs = await topics.get(row.topic)!.jobsFor(trx, row, deps);
        for (const [i, spec] of specs.entries()) {
          // A dedupe key of the row's own: even a dispatch that somehow ran twice would enqueue nothing twice.
          await enqueueJob(trx, { tenantId: row.tenant_id, ...spec, dedupeKey: spec.dedupeKey ?? `outbox:${row.tenant_id}:${row.id}:${i}` });
        }
        await markDispatched(trx, row.tenant_id, row.id, specs.length, now);
      }
      return rows.length === BATCH ? { runAgainAt: now } : undefined;
    },
  };
}
