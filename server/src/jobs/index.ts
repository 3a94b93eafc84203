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

const builtInKinds: JobKind[] = [sessionExpiryJob, retentionPurgeJob];
const builtInTopics: OutboxTopic[] = [];

export type { JobRunner } from "./runner.js";

/** Starts this replica's runner. Embedded PGlite has one connection, so its runner runs one job at a time. */
export async function startJobRunner(deps: Deps): Promise<JobRunner> {
  const extras = registeredExtras();
  const topics = [...builtInTopics, ...extras.topics];
  const { topics: byTopic } = createJobRegistry([], topics);
  // With no topic there is nothing to dispatch: no dispatcher, rather than a claim and two writes every second.
  const dispatcher = topics.length > 0 ? [outboxDispatchJob(byTopic)] : [];
  const registry = createJobRegistry([...builtInKinds, ...dispatcher, ...extras.kinds], topics);
  const runner = createJobRunner(deps, registry, {
    concurrency: deps.config.databaseUrl ? 4 : 1,
    stopGraceMs: deps.config.shutdownGraceMs,
  });
  await runner.start();
  return runner;
}
