/**
 * The outbox's dispatcher: a recurring job that turns pending outbox rows into their jobs. The jobs and the row's
 * dispatched mark commit in the dispatcher's one transaction, so each row becomes its jobs exactly once, whichever
 * replica runs it and however it crashes. Only topics this replica knows are taken: a row of a topic added by a
 * newer release waits for a replica that knows it, rather than being marked done with no jobs.
 *
 * Each row is dispatched under its own savepoint: a row whose topic throws is rolled back alone, its failure
 * counted on the row, and the rows behind it go on. After OUTBOX_SET_ASIDE_AFTER failures it is set aside
 * (set_aside_at, its last error kept) for the operator, so it neither blocks the outbox nor warns every second.
 *
 * Row by row costs a few round trips per row, which a busy call path (an event per answered call) would feel. So a
 * batch is first dispatched whole, under one savepoint: each topic's jobs for all its rows (jobsForMany, one query),
 * one insert of every job, one update marking every row. Only when that fails is the batch done row by row as above,
 * which isolates the row at fault.
 */
import { enqueueJob, enqueueJobs, type NewJob } from "../stores/jobs.js";
import { lockPendingOutbox, markDispatched, markManyDispatched, recordDispatchFailure, type OutboxRow } from "../stores/outbox.js";
import type { Deps } from "../deps.js";
import type { Knex } from "knex";
import { describeJobError } from "./attempt.js";
import type { OutboxTopic, TransactionalJobKind } from "./kinds.js";

const BATCH = 200;
/** How soon a recorded change starts its jobs (the first webhook attempt, say): about a second. */
export const OUTBOX_DISPATCH_EVERY_MS = 1_000;
/** Failed dispatches before a row is set aside: a fault in the row or its topic's code, not a passing one. */
export const OUTBOX_SET_ASIDE_AFTER = 10;
/** query_canceled and lock_not_available: the dispatch's own time ran out (jobs/job-transaction.ts). */
const OUT_OF_TIME = new Set(["57014", "55P03"]);

/** The dispatcher for `topics`; `kind` names its (singleton) job row. */
export function outboxDispatchJob(topics: ReadonlyMap<string, OutboxTopic>, kind = "outbox.dispatch"): TransactionalJobKind {
  const names = [...topics.keys()];

  async function dispatch(trx: Knex.Transaction, row: OutboxRow, deps: Deps, now: Date): Promise<void> {
    // A nested transaction is a savepoint: this row's jobs and mark, or none of them.
    await trx.transaction(async (sp) => {
      const specs = await topics.get(row.topic)!.jobsFor(sp, row, deps);
      for (const [i, spec] of specs.entries()) {
        // A dedupe key of the row's own: even a dispatch that somehow ran twice would enqueue nothing twice.
        await enqueueJob(sp, { tenantId: row.tenant_id, runAt: now, ...spec, dedupeKey: spec.dedupeKey ?? `outbox:${row.tenant_id}:${row.id}:${i}` });
      }
      await markDispatched(sp, row.tenant_id, row.id, specs.length, now);
    });
  }

  /** The whole batch in one savepoint; throws (having rolled back) if any part fails. */
  async function dispatchBatch(trx: Knex.Transaction, rows: OutboxRow[], deps: Deps, now: Date): Promise<void> {
    await trx.transaction(async (sp) => {
      const specsByRow = new Map<OutboxRow, NewJob[]>();
      const byTopic = new Map<string, OutboxRow[]>();
      for (const row of rows) byTopic.set(row.topic, [...(byTopic.get(row.topic) ?? []), row]);
      for (const [name, topicRows] of byTopic) {
        const topic = topics.get(name)!;
        const specs = topic.jobsForMany
          ? await topic.jobsForMany(sp, topicRows, deps)
          : await Promise.all(topicRows.map((row) => topic.jobsFor(sp, row, deps)));
        topicRows.forEach((row, i) => specsByRow.set(row, specs[i] ?? []));
      }
      const all: NewJob[] = [];
      for (const row of rows) {
        for (const [i, spec] of specsByRow.get(row)!.entries()) {
          all.push({ tenantId: row.tenant_id, runAt: now, ...spec, dedupeKey: spec.dedupeKey ?? `outbox:${row.tenant_id}:${row.id}:${i}` });
        }
      }
      await enqueueJobs(sp, all);
      await markManyDispatched(sp, rows.map((row) => ({ tenantId: row.tenant_id, id: row.id, jobs: specsByRow.get(row)!.length })), now);
    });
  }

  return {
    kind,
    transactional: true,
    everyMs: () => OUTBOX_DISPATCH_EVERY_MS,
    // Short, so that after a crash mid-dispatch the row's lease (timeout + margin) frees it within seconds.
    timeoutMs: 10_000,
    async run(trx, _job, deps) {
      const rows = await lockPendingOutbox(trx, names, BATCH);
      const now = deps.clock.now();
      if (rows.length > 1) {
        try {
          await dispatchBatch(trx, rows, deps, now);
          return rows.length === BATCH ? { runAgainAt: now } : undefined;
        } catch (err) {
          if (OUT_OF_TIME.has(String((err as { code?: unknown }).code))) throw err;
          deps.logger.debug({ err, rows: rows.length }, "outbox batch failed to dispatch; dispatching row by row");
        }
      }
      for (const row of rows) {
        try {
          await dispatch(trx, row, deps, now);
        } catch (err) {
          const error = describeJobError(err);
          const failed = await recordDispatchFailure(trx, { tenantId: row.tenant_id, id: row.id, error, now, setAsideAfter: OUTBOX_SET_ASIDE_AFTER });
          const fields = { tenantId: row.tenant_id, outboxId: row.id, topic: row.topic, failures: failed.failures, err };
          if (failed.setAside) deps.logger.error(fields, "outbox row set aside after repeated dispatch failures");
          else if (failed.failures === 1) deps.logger.warn(fields, "outbox row failed to dispatch; retrying with the next dispatches");
          else deps.logger.debug(fields, "outbox row failed to dispatch again");
          // Out of time: what is done so far commits now, before the runner abandons the whole dispatch.
          if (OUT_OF_TIME.has(String((err as { code?: unknown }).code))) return { runAgainAt: now };
        }
      }
      return rows.length === BATCH ? { runAgainAt: now } : undefined;
    },
  };
}
