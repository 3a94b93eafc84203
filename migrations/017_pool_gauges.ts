import type { Knex } from "knex";

// Pool sizing for the operator's metrics (docs/operating.md, "Metrics"): the `metrics.pools` job walks the tenants
// and writes each pool's figures here, a tenant at a time with the tenant-scoped query GET /v1/pools uses; every
// replica's GET /metrics reads the table instead of sizing every tenant's pools itself at scrape time.
//
// Derived data only: the figures of a pool, no person and no number (a pool name is a tenant's word, masked when it
// is phone-shaped before it becomes a label). Tenant-led like every tenant table. The one global index serves the
// scrape, which names the fullest pools across tenants.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE pool_gauges (
      tenant_id text NOT NULL REFERENCES tenants (id),
      pool text NOT NULL,
      numbers integer NOT NULL,
      busiest integer NOT NULL,
      headroom integer NOT NULL,
      utilisation double precision NOT NULL,
      -- Sessions the PINs left can still open: numbers × 10^pinLength ÷ 2, past integer with 8-digit PINs on 50 numbers.
      pin_headroom bigint NOT NULL,
      computed_at timestamptz NOT NULL,
      -- The walk's pass that wrote the row: at a pass's end, rows of another pass are of tenants it no longer met.
      -- (Not computed_at: replicas' clocks differ, and a time comparison would keep or drop the wrong rows.)
      pass text NOT NULL,
      PRIMARY KEY (tenant_id, pool)
    )`);
  await knex.raw("CREATE INDEX pool_gauges_fullest ON pool_gauges (utilisation DESC, tenant_id, pool)");
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw("DROP TABLE pool_gauges");
}
