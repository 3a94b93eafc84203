import type { Knex } from "knex";

// The call path's second round: call records carry the carrier's numeric hangup cause and the call's direction,
// apps bound how long a bridged call may last, and replay protection has a durable ledger in Postgres for the
// times Redis is unreachable (Redis is an accelerator, never the only copy of what decides a call).
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable("apps", (t) => {
    t.integer("max_call_seconds").notNullable().defaultTo(3600);
  });
  await knex.schema.alterTable("calls", (t) => {
    t.text("direction").notNullable().defaultTo("inbound");
    t.text("hangup_cause_code");
  });
  // A nonce per app, with what it was first seen on (endpoint, CallUUID, Event): a carrier retry of the same
  // request is recognised as a retry, anything else under a seen nonce is a replay.
  await knex.schema.createTable("webhook_nonces", (t) => {
    t.text("tenant_id").notNullable().references("tenants.id").onDelete("CASCADE");
    t.text("app_id").notNullable();
    t.text("nonce").notNullable();
    t.text("fingerprint").notNullable();
    t.timestamp("seen_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(["tenant_id", "app_id", "nonce"]);
    t.index(["tenant_id", "seen_at"]);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable("webhook_nonces");
  await knex.schema.alterTable("calls", (t) => {
    t.dropColumn("hangup_cause_code");
    t.dropColumn("direction");
  });
  await knex.schema.alterTable("apps", (t) => {
    t.dropColumn("max_call_seconds");
  });
}
