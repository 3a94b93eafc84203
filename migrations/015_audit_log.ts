import type { Knex } from "knex";

// The audit log (docs/audit-log.md): one row per change made through the API, written by the route layer after the
// change committed (server/src/http/audit.ts). Append-only: the server never updates a row, and deletes rows only in
// the retention purge (MASKLINE_AUDIT_RETENTION_DAYS, counted from created_at); the SQL audit of the test suite fails
// on any other UPDATE or DELETE of the table (test/support/sql-audit.ts, appendOnlyViolations).
//
// Tenant-led like every tenant table (migration 009): the primary key is (tenant_id, id), and the tenant's list and
// its filters are (tenant_id, …, id DESC) probes. Two indexes are deliberately global: the operator's view reads
// every tenant newest first (audit_events_id), and the purge finds rows past the one service-wide retention whatever
// their tenant (audit_events_created_at).
//
// What is never here: a request body value. resource_id is an id the service made (or a pool name), ip the socket's
// address, request_id the request's (masked if phone-shaped). api_key_id has no foreign key on purpose: the record of
// what a key did outlives the key's own row. The tenant reference does not cascade either: a row of the audit log is
// removed by its retention and nothing else (no path in the service deletes a tenant).
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE audit_events (
      tenant_id text NOT NULL REFERENCES tenants (id),
      id text NOT NULL,
      actor_type text NOT NULL CHECK (actor_type IN ('api_key', 'operator')),
      api_key_id text,
      action text NOT NULL,
      resource_type text NOT NULL,
      resource_id text,
      ip text,
      request_id text NOT NULL,
      created_at timestamptz NOT NULL,
      PRIMARY KEY (tenant_id, id),
      CONSTRAINT audit_events_actor CHECK ((actor_type = 'api_key') = (api_key_id IS NOT NULL))
    )`);
  // The tenant's list, newest first (keyset on the time-sortable id), is the primary key (tenant_id, id) read
  // backwards: a second (tenant_id, id DESC) index would only cost every insert a write (migration 009 dropped such
  // duplicates for the same reason). Its two filters each have their own probe.
  await knex.raw("CREATE INDEX audit_events_action ON audit_events (tenant_id, action, id DESC)");
  await knex.raw("CREATE INDEX audit_events_resource ON audit_events (tenant_id, resource_id, id DESC)");
  // The operator's view across tenants, newest first.
  await knex.raw("CREATE INDEX audit_events_id ON audit_events (id DESC)");
  // The retention purge's range scan.
  await knex.raw("CREATE INDEX audit_events_created_at ON audit_events (created_at)");
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw("DROP TABLE audit_events");
}
