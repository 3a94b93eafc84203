import type { Knex } from "knex";

// Events to the tenant (server/src/services/events.ts, docs/events.md):
//
// `events`: what happened, recorded in the transaction of the change it describes, with `data` shaped as the API
// returns the resource (never a real number). Kept for the tenant's retention, like the sessions and calls.
//
// `webhook_endpoints`: where a tenant wants its events, with the HMAC secret encrypted at rest (and the previous one
// for 24 hours after a rotation). `failing_since` is the first failure since the last success: an endpoint failing
// for 5 days is disabled.
//
// `webhook_deliveries`: one row per attempt (the deliveries API), removed with its endpoint or its event.
//
// `pool_alerts`: when each pool last said `pool.exhausted`, so that it says so at most once a minute (an upsert that
// only moves the mark when a minute has passed is the cross-replica rate limit).
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE events (
      tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      id text NOT NULL,
      type text NOT NULL,
      data jsonb NOT NULL,
      created_at timestamptz NOT NULL,
      PRIMARY KEY (tenant_id, id)
    )`);
  // Newest first per type (the list's filter); the retention purge's range scan.
  await knex.raw("CREATE INDEX events_type ON events (tenant_id, type, id)");
  await knex.raw("CREATE INDEX events_created_at ON events (tenant_id, created_at)");

  await knex.raw(`
    CREATE TABLE webhook_endpoints (
      tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      id text NOT NULL,
      url text NOT NULL,
      -- Empty: every type.
      event_types text[] NOT NULL DEFAULT '{}',
      description text,
      enabled boolean NOT NULL DEFAULT true,
      disabled_reason text CHECK (disabled_reason IN ('gone', 'failing')),
      secret_enc text NOT NULL,
      previous_secret_enc text,
      previous_secret_until timestamptz,
      failing_since timestamptz,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      PRIMARY KEY (tenant_id, id)
    )`);

  await knex.raw(`
    CREATE TABLE webhook_deliveries (
      tenant_id text NOT NULL,
      id text NOT NULL,
      endpoint_id text NOT NULL,
      event_id text NOT NULL,
      attempt integer NOT NULL CHECK (attempt >= 1),
      outcome text NOT NULL CHECK (outcome IN ('succeeded', 'failed')),
      status_code integer,
      error text,
      duration_ms integer NOT NULL,
      created_at timestamptz NOT NULL,
      PRIMARY KEY (tenant_id, id),
      CONSTRAINT webhook_deliveries_endpoint_foreign FOREIGN KEY (tenant_id, endpoint_id)
        REFERENCES webhook_endpoints (tenant_id, id) ON DELETE CASCADE,
      CONSTRAINT webhook_deliveries_event_foreign FOREIGN KEY (tenant_id, event_id)
        REFERENCES events (tenant_id, id) ON DELETE CASCADE
    )`);
  await knex.raw("CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (tenant_id, endpoint_id, id)");
  // The cascade from a purged event.
  await knex.raw("CREATE INDEX webhook_deliveries_event ON webhook_deliveries (tenant_id, event_id)");

  await knex.raw(`
    CREATE TABLE pool_alerts (
      tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      pool text NOT NULL,
      exhausted_at timestamptz NOT NULL,
      PRIMARY KEY (tenant_id, pool)
    )`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw("DROP TABLE pool_alerts");
  await knex.raw("DROP TABLE webhook_deliveries");
  await knex.raw("DROP TABLE webhook_endpoints");
  await knex.raw("DROP TABLE events");
}
