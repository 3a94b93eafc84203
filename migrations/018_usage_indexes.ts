import type { Knex } from "knex";

// The usage figures (GET /v1/usage, the console's overview; stores/usage.ts), read on every console page load, as
// index probes that lead with tenant_id:
//
// sessions_tenant_live: a tenant's live sessions, counted by (tenant_id, expires_at) over its open ones. Before it,
// the count had only the sweeper's global (expires_at) index or the tenant's every session, open or not.
//
// calls_tenant_started replaces calls_started_at (004) with the same key and the call's decision beside it, so calls
// by decision over a tenant's last days are an index-only scan instead of a heap read per call; the retention purge
// uses the same key as before.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`CREATE INDEX sessions_tenant_live ON sessions (tenant_id, expires_at) WHERE status = 'open'`);
  await knex.raw(`CREATE INDEX calls_tenant_started ON calls (tenant_id, started_at) INCLUDE (decision)`);
  await knex.raw(`DROP INDEX IF EXISTS calls_started_at`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`CREATE INDEX IF NOT EXISTS calls_started_at ON calls (tenant_id, started_at)`);
  await knex.raw(`DROP INDEX IF EXISTS calls_tenant_started`);
  await knex.raw(`DROP INDEX IF EXISTS sessions_tenant_live`);
}
