import type { Knex } from "knex";

// Every key of a tenant's table leads with tenant_id, so the schema can be distributed by tenant (docs/scaling.md):
// primary keys become (tenant_id, id) and every foreign key between tenant tables is (tenant_id, x_id) →
// parent (tenant_id, id). Citus requires a unique index on a distributed table to include the distribution column,
// and a foreign key between distributed tables to include it on both sides; Postgres keeps the same rules useful
// here too: a row can never point at another tenant's row.
//
// Two lookups arrive without a tenant: the API key's hash (authentication) and the app id in a webhook URL. Each
// gets a small reference table, written in the same transaction as the key or app, that names the tenant; the
// tenant's table is then read with tenant_id. api_keys.secret_hash loses its global unique index (it could not be
// one under Citus): api_key_lookup's primary key is that uniqueness for every key that can authenticate.
//
// Runs on a database that already has rows (the foreign keys are re-validated; the rows always agreed on tenant_id,
// every write path sets it from the same tenant) and on PGlite.

/** Tables whose primary key was `id` alone. */
const KEYED_BY_ID = ["api_keys", "apps", "numbers", "sessions", "participants", "calls"] as const;

/** Foreign keys onto `id`-only keys, and what each becomes. */
const FOREIGN_KEYS = [
  { table: "numbers", column: "app_id", parent: "apps", onDelete: "CASCADE" },
  { table: "sessions", column: "app_id", parent: "apps", onDelete: "CASCADE" },
  { table: "calls", column: "app_id", parent: "apps", onDelete: "CASCADE" },
  { table: "participants", column: "session_id", parent: "sessions", onDelete: "CASCADE" },
  { table: "participants", column: "proxy_number_id", parent: "numbers", onDelete: "NO ACTION" },
  // number_claims is a reference table (a DID is global): under Citus this one is dropped (docs/scaling.md).
  { table: "number_claims", column: "number_id", parent: "numbers", onDelete: "CASCADE" },
] as const;

export async function up(knex: Knex): Promise<void> {
  for (const fk of FOREIGN_KEYS) {
    await knex.raw(`ALTER TABLE ${fk.table} DROP CONSTRAINT IF EXISTS ${fk.table}_${fk.column}_foreign`);
  }
  for (const table of KEYED_BY_ID) {
    await knex.raw(`ALTER TABLE ${table} DROP CONSTRAINT ${table}_pkey, ADD CONSTRAINT ${table}_pkey PRIMARY KEY (tenant_id, id)`);
    // The (tenant_id, id) index the lists used is now the primary key.
    await knex.raw(`DROP INDEX IF EXISTS ${table}_tenant_id_id_index`);
  }
  // Built after the new primary keys, on purpose. The hot statements' generic plans are made while the tables are
  // tiny and unanalyzed (stores/routing.ts), when every index matching `tenant_id = $n` estimates one row and costs
  // exactly the same as the index whose whole key the probe binds; Postgres then keeps the index it considered
  // first, the most recently built one. So each probe's own index must be younger than the tenant-led indexes it
  // ties with: (tenant, person, id DESC) than participants_pkey for the newest-pairing probes, (tenant, session)
  // than both for the other-participant probe, and calls_call_uuid_tenant than calls_pkey for the CallUUID probe.
  // test/integration/plan-stability.test.ts fails if a later index takes one of these ties. Build order is not
  // enough on its own: statements planned while the tables are empty, before any of these indexes has a page of
  // its own, still took the tenant-only prefixes in the bench's growth phase; pooled connections are therefore
  // retired young and plan again as the tables fill (server/src/db/connection-lifetime.ts).
  await knex.raw(`DROP INDEX participants_person`);
  await knex.raw(`CREATE INDEX participants_person ON participants (tenant_id, number_bidx, id DESC)`);
  await knex.raw(`DROP INDEX IF EXISTS participants_session_id_index`);
  await knex.raw(`CREATE INDEX participants_tenant_id_session_id_index ON participants (tenant_id, session_id)`);
  await knex.raw(`DROP INDEX calls_call_uuid_tenant`);
  await knex.raw(`CREATE UNIQUE INDEX calls_call_uuid_tenant ON calls (call_uuid, tenant_id)`);
  for (const fk of FOREIGN_KEYS) {
    await knex.raw(
      `ALTER TABLE ${fk.table} ADD CONSTRAINT ${fk.table}_tenant_id_${fk.column}_foreign
         FOREIGN KEY (tenant_id, ${fk.column}) REFERENCES ${fk.parent} (tenant_id, id) ON DELETE ${fk.onDelete}`,
    );
  }

  // Authentication: hash → (tenant, key). Only keys that authenticate have a row: revoking deletes it in the
  // revoke's transaction, so "the key's row exists" is the whole check, on one reference-table probe.
  await knex.raw(`
    CREATE TABLE api_key_lookup (
      secret_hash text PRIMARY KEY,
      tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      key_id text NOT NULL,
      CONSTRAINT api_key_lookup_key_foreign FOREIGN KEY (tenant_id, key_id) REFERENCES api_keys (tenant_id, id) ON DELETE CASCADE
    )`);
  await knex.raw(`
    INSERT INTO api_key_lookup (secret_hash, tenant_id, key_id)
    SELECT secret_hash, tenant_id, id FROM api_keys WHERE revoked_at IS NULL
    ON CONFLICT (secret_hash) DO NOTHING`);
  await knex.raw(`ALTER TABLE api_keys DROP CONSTRAINT IF EXISTS api_keys_secret_hash_unique`);

  // Webhooks: the app id in the URL → its tenant. App ids stay globally unique through this primary key.
  await knex.raw(`
    CREATE TABLE app_lookup (
      app_id text PRIMARY KEY,
      tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      CONSTRAINT app_lookup_app_foreign FOREIGN KEY (tenant_id, app_id) REFERENCES apps (tenant_id, id) ON DELETE CASCADE
    )`);
  await knex.raw(`INSERT INTO app_lookup (app_id, tenant_id) SELECT id, tenant_id FROM apps ON CONFLICT (app_id) DO NOTHING`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`DROP TABLE app_lookup`);
  await knex.raw(`DROP TABLE api_key_lookup`);
  await knex.raw(`ALTER TABLE api_keys ADD CONSTRAINT api_keys_secret_hash_unique UNIQUE (secret_hash)`);
  for (const fk of FOREIGN_KEYS) {
    await knex.raw(`ALTER TABLE ${fk.table} DROP CONSTRAINT IF EXISTS ${fk.table}_tenant_id_${fk.column}_foreign`);
  }
  await knex.raw(`CREATE INDEX participants_session_id_index ON participants (session_id)`);
  await knex.raw(`DROP INDEX IF EXISTS participants_tenant_id_session_id_index`);
  for (const table of KEYED_BY_ID) {
    await knex.raw(`ALTER TABLE ${table} DROP CONSTRAINT ${table}_pkey, ADD CONSTRAINT ${table}_pkey PRIMARY KEY (id)`);
    if (table !== "participants") await knex.raw(`CREATE INDEX ${table}_tenant_id_id_index ON ${table} (tenant_id, id)`);
  }
  for (const fk of FOREIGN_KEYS) {
    await knex.raw(
      `ALTER TABLE ${fk.table} ADD CONSTRAINT ${fk.table}_${fk.column}_foreign
         FOREIGN KEY (${fk.column}) REFERENCES ${fk.parent} (id) ON DELETE ${fk.onDelete}`,
    );
  }
}
