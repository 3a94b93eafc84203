import type { Knex } from "knex";

// An idempotency claim carries an exact token: taking over an abandoned claim, storing the result and releasing
// the key all match on it. Comparing the claim's timestamp instead (a JS Date, milliseconds, against timestamptz,
// microseconds) never matched and spun. claimed_at is when the current holder took the key, so a takeover
// restarts the abandonment clock without touching created_at (which the purge keys on).
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable("idempotency_keys", (t) => {
    // The default covers rows already there and inserts from replicas still on the previous release.
    t.text("claim_token").notNullable().defaultTo(knex.raw("gen_random_uuid()::text"));
    t.timestamp("claimed_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex("idempotency_keys").update({ claimed_at: knex.ref("created_at") });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable("idempotency_keys", (t) => {
    t.dropColumn("claimed_at");
    t.dropColumn("claim_token");
  });
}
