/**
 * The service's background work: one job runner over the built-in kinds (session expiry, the retention purge, the
 * outbox dispatcher once a topic exists) and any registered from elsewhere (jobs/kinds.ts). No bare timers and no
 * in-memory queues: what must happen later is a row in `jobs` or `outbox`, written in the transaction of the change that asks for it.
 */
import type { Deps } from "../deps.js";
import { createJobRegistry, registeredExtras, type JobKind, type OutboxTopic } from "./kinds.js";
import { createJobRunner, type JobRunner } from "./runner.js";
import { outboxDispatchJob } from "./outbox-dispatch.js";
import { retentionPurgeJob, sessionExpiryJob } from "./sweeper.js";
import { eventTopic, webhookDeliveryJob } from "./webhook-delivery.js";
import { recordingDeleteJob } from "./recording-delete.js";
import { eraseJob, exportJob } from "./privacy.js";
import { rekeyJob } from "./rekey.js";
import { poolGaugesJob } from "./pool-gauges.js";

const builtInKinds: JobKind[] = [sessionExpiryJob, retentionPurgeJob, recordingDeleteJob, eraseJob, exportJob, poolGaugesJob];
const builtInTopics: OutboxTopic[] = [eventTopic];

export type { JobRunner } from "./runner.js";

/**
 * Starts this replica's runners: one for the service's own work, and one for event deliveries, which wait on
 * tenants' servers (up to 15 s each) and so get their own slots: a backlog of slow receivers never delays session
 * expiry or the outbox. Embedded PGlite has one connection, so there the service's runner runs one job at a time.
 */
export async function startJobRunner(deps: Deps): Promise<JobRunner> {
  const extras = registeredExtras();
  const topics = [...builtInTopics, ...extras.topics];
  const { topics: byTopic } = createJobRegistry([], topics);
  // With no topic there is nothing to dispatch: no dispatcher, rather than a claim and two writes every second.
  const dispatcher = topics.length > 0 ? [outboxDispatchJob(byTopic)] : [];
  // Re-encryption runs only while a rotation is under way (previous master keys configured).
  const rekey = deps.keys.previousKeyIds.length > 0 ? [rekeyJob] : [];
  const registry = createJobRegistry([...builtInKinds, ...dispatcher, ...rekey, ...extras.kinds], topics);
  const runner = createJobRunner(deps, registry, {
    concurrency: deps.config.databaseUrl ? 4 : 1,
    stopGraceMs: deps.config.shutdownGraceMs,
  });
  const deliveryConcurrency = deps.config.databaseUrl ? deps.config.webhookConcurrency : Math.min(4, deps.config.webhookConcurrency);
  const deliveries = createJobRunner(deps, createJobRegistry([webhookDeliveryJob]), {
    concurrency: deliveryConcurrency,
    stopGraceMs: deps.config.shutdownGraceMs,
    // Deliveries can wait; callers cannot: a burst of calls leaves them a trickle until it passes.
    yieldTo: deps.load,
  });
  await runner.start();
  await deliveries.start();
  return combined([runner, deliveries]);
}

/** Several runners as one (start, run what is due, stop together). */
function combined(runners: JobRunner[]): JobRunner {
  return {
    id: runners.map((r) => r.id).join("+"),
    stopBoundMs: Math.max(...runners.map((r) => r.stopBoundMs)),
    async start() {
      for (const r of runners) await r.start();
    },
    async scheduleRecurring() {
      for (const r of runners) await r.scheduleRecurring();
    },
    async runDue(maxRounds) {
      let ran = 0;
      for (const r of runners) ran += await r.runDue(maxRounds);
      return ran;
    },
    async stop() {
      await Promise.all(runners.map((r) => r.stop()));
    },
  };
}
