/**
 * Loaded into the real service with `--import` by jobs-crash.test.ts, never shipped: a job kind and
 * an outbox topic whose only effect is a row in `probe_effects`, a table the test makes in its own Postgres. Both
 * sleep in their transaction, so a SIGKILL lands while jobs and a dispatch are in flight.
 */
import { registerJobKind, registerOutboxTopic } from "../../server/src/jobs/kinds.js";

export const PROBE_KIND = "test.probe";
export const PROBE_TOPIC = "test.probe";

registerJobKind({
  kind: PROBE_KIND,
  transactional: true,
  // Its lease (timeout + margin) is how long a job the kill left claimed waits to be taken again.
  timeoutMs: 3_000,
  maxAttempts: 20,
  async run(trx, job) {
    await trx.raw("INSERT INTO probe_effects (job_id, pid) VALUES (?, ?)", [job.id, process.pid]);
    await trx.raw("SELECT pg_sleep(?)", [Number(job.payload.sleepMs ?? 50) / 1000]);
  },
});

registerOutboxTopic({
  topic: PROBE_TOPIC,
  async jobsFor(trx, row) {
    await trx.raw("SELECT pg_sleep(0.05)"); // a slow dispatch: the kill finds it part-way through its rows
    return [{ kind: PROBE_KIND, payload: { outboxId: row.id, sleepMs: 20 } }];
  },
});
