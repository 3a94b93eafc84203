import type { Knex } from "knex";

// Tenants and their API keys. Every unique index on a tenant's table leads with tenant_id so the schema
// can be distributed by tenant later; api_keys.secret_hash is the exception a lookup-by-secret needs.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("tenants", (t) => {
    t.text("id").primary();
    t.text("name").notNullable();
    t.jsonb("settings").notNullable().defaultTo("{}");
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable("api_keys", (t) => {
    t.text("id").primary();
    t.text("tenant_id").notNullable().references("tenants.id").onDelete("CASCADE");
    t.text("name");
    t.text("start").notNullable();
    t.text("secret_hash").notNullable().unique();
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp("last_used_at", { useTz: true });
    t.timestamp("revoked_at", { useTz: true });
    t.index(["tenant_id", "id"]);
  });

  // POST idempotency: the first request with a key runs; repeats replay its stored (encrypted) response.
  await knex.schema.createTable("idempotency_keys", (t) => {
    t.text("scope").notNullable(); // tenant id, or "admin"
    t.text("key").notNullable();
    t.text("operation").notNullable();
    t.text("request_hash").notNullable();
    t.integer("status_code");
    t.text("response_enc");
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp("completed_at", { useTz: true });
    t.primary(["scope", "key", "operation"]);
    t.index(["created_at"]);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable("idempotency_keys");
  await knex.schema.dropTable("api_keys");
  await knex.schema.dropTable("tenants");
}
