import type { Knex } from "knex";

// sessions_tenant_live: a tenant's live sessions (GET /v1/usage, the console's overview; stores/usage.ts), counted by
// (tenant_id, expires_at) over its open ones. Before it, the count had only the sweeper's global (expires_at) index
// or the tenant's every session, open or not. Partial on status = 'open', which the call path's lookups never name,
// so no prepared statement of theirs can take it for its own (see 009 on how a plan picks between tied indexes).
//
// Calls by decision keep calls_started_at (004): a covering index with the decision beside it would tie with the
// CallUUID lookup's index on a young table and could be chosen for it (a scan of the tenant's calls per answer).
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`CREATE INDEX sessions_tenant_live ON sessions (tenant_id, expires_at) WHERE status = 'open'`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`DROP INDEX IF EXISTS sessions_tenant_live`);
}
