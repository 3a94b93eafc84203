import type { Knex } from "knex";

// A retried or replayed CallUUID is answered from its call row, looked up beside every routing lookup. Postgres keeps
// one generic plan for that prepared statement, made while `calls` was empty and unanalyzed, and with
// `tenant_id = $1 AND call_uuid = $2` every tenant-led index on calls ties for it: the narrowest one won and walked
// the tenant's calls. Leading the uniqueness with call_uuid gives the lookup one index that can serve
// `call_uuid = $1` (the tenant is checked on the row), whatever the statistics. The pair stays unique, so
// `ON CONFLICT (tenant_id, call_uuid)` still infers it, and it still includes the distribution column for Citus.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`CREATE UNIQUE INDEX IF NOT EXISTS calls_call_uuid_tenant ON calls (call_uuid, tenant_id)`);
  await knex.raw(`ALTER TABLE calls DROP CONSTRAINT IF EXISTS calls_tenant_id_call_uuid_unique`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`ALTER TABLE calls ADD CONSTRAINT calls_tenant_id_call_uuid_unique UNIQUE (tenant_id, call_uuid)`);
  await knex.raw(`DROP INDEX IF EXISTS calls_call_uuid_tenant`);
}
