import type { Knex } from "knex";

// Durable background work (server/src/jobs/, docs/architecture.md "Background work").
//
// `jobs` is the operator's table, not a tenant's: one row a unit of work, claimed by any replica with
// FOR UPDATE SKIP LOCKED, kept after it finishes (the retention purge deletes old finished rows) so an operator can
// see what ran, what is retrying and what gave up. A job acting for one tenant carries its tenant_id.
//
// `outbox` is a tenant's table (its key leads with tenant_id): a change and the record of it commit in the same
// transaction, and the runner's dispatch job turns each row into its jobs exactly once.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE jobs (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      kind text NOT NULL,
      payload jsonb NOT NULL DEFAULT '{}'::jsonb,
      tenant_id text,
      -- Jobs sharing a queue key run at most the kind's concurrencyPerKey at a time (one endpoint, one tenant).
      queue_key text,
      -- Enqueue-once: a second enqueue with the same key is a no-op. Recurring kinds use 'recurring:<kind>', so
      -- each has exactly one row, which reschedules itself.
      dedupe_key text,
      -- queued: waits for run_at. running: leased. failed: the last attempt failed, the retry waits for run_at.
      -- succeeded: done. dead: gave up after max_attempts (kept for the operator).
      status text NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'dead')),
      attempts integer NOT NULL DEFAULT 0,
      max_attempts integer NOT NULL DEFAULT 10 CHECK (max_attempts >= 1),
      run_at timestamptz NOT NULL DEFAULT now(),
      -- The lease: which runner holds the job and until when. Past locked_until another runner may take it.
      locked_by text,
      locked_until timestamptz,
      -- The error's class and a scrubbed, bounded message; never a phone number or a payload.
      last_error text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      finished_at timestamptz
    )`);
  // Claiming: due queued and failed rows by run_at, and running rows whose lease ran out.
  await knex.raw("CREATE INDEX jobs_claim ON jobs (status, run_at)");
  await knex.raw("CREATE UNIQUE INDEX jobs_dedupe_key ON jobs (dedupe_key) WHERE dedupe_key IS NOT NULL");
  // Counting what runs under one queue key (the per-key bound) without reading the finished rows.
  await knex.raw("CREATE INDEX jobs_running_queue_key ON jobs (queue_key) WHERE status = 'running' AND queue_key IS NOT NULL");
  // The purge of finished rows.
  await knex.raw("CREATE INDEX jobs_finished ON jobs (finished_at) WHERE status IN ('succeeded', 'dead')");

  await knex.raw(`
    CREATE TABLE outbox (
      tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      id bigint GENERATED ALWAYS AS IDENTITY,
      topic text NOT NULL,
      payload jsonb NOT NULL DEFAULT '{}'::jsonb,
      created_at timestamptz NOT NULL DEFAULT now(),
      -- Set in the transaction that enqueued the row's jobs; how many it enqueued (0 for a topic with no subscriber).
      dispatched_at timestamptz,
      dispatched_jobs integer,
      PRIMARY KEY (tenant_id, id)
    )`);
  // The dispatcher's scan: pending rows in the order they were written (identity order across tenants).
  await knex.raw("CREATE INDEX outbox_pending ON outbox (id) WHERE dispatched_at IS NULL");
  await knex.raw("CREATE INDEX outbox_dispatched ON outbox (dispatched_at) WHERE dispatched_at IS NOT NULL");
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw("DROP TABLE outbox");
  await knex.raw("DROP TABLE jobs");
}
