import type { Knex } from "knex";

// A deleted webhook endpoint stays as a tombstone (secrets wiped, hidden from every read), so a repeated DELETE is
// answered like the first (server/src/stores/webhook-endpoints.ts).
export async function up(knex: Knex): Promise<void> {
  await knex.raw("ALTER TABLE webhook_endpoints ADD COLUMN deleted_at timestamptz");
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw("ALTER TABLE webhook_endpoints DROP COLUMN deleted_at");
}
