import type { Knex } from "knex";

// Two amendments to 008 (server/src/jobs/, docs/architecture.md "Background work"):
//
// An outbox row whose dispatch fails is counted, and set aside after a few failures (set_aside_at), so one bad row
// cannot hold back the rows behind it for every tenant; its error is kept for the operator, who can clear
// set_aside_at to try it again.
//
// jobs.max_attempts may be NULL: a job enqueued without its own bound takes its kind's (or the runner's default),
// read when the attempt ends, rather than a default frozen into the row when it was written.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE outbox
      ADD COLUMN dispatch_failures integer NOT NULL DEFAULT 0,
      ADD COLUMN last_error text,
      ADD COLUMN set_aside_at timestamptz`);
  // The dispatcher's scan skips set-aside rows; they wait for the operator, not in the scan's way.
  await knex.raw("DROP INDEX outbox_pending");
  await knex.raw("CREATE INDEX outbox_pending ON outbox (id) WHERE dispatched_at IS NULL AND set_aside_at IS NULL");
  await knex.raw("ALTER TABLE jobs ALTER COLUMN max_attempts DROP NOT NULL, ALTER COLUMN max_attempts DROP DEFAULT");
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw("UPDATE jobs SET max_attempts = 10 WHERE max_attempts IS NULL");
  await knex.raw("ALTER TABLE jobs ALTER COLUMN max_attempts SET DEFAULT 10, ALTER COLUMN max_attempts SET NOT NULL");
  await knex.raw("DROP INDEX outbox_pending");
  await knex.raw("CREATE INDEX outbox_pending ON outbox (id) WHERE dispatched_at IS NULL");
  await knex.raw("ALTER TABLE outbox DROP COLUMN dispatch_failures, DROP COLUMN last_error, DROP COLUMN set_aside_at");
}
