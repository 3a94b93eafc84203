import type { Knex } from "knex";

// The allocator asks "which DIDs does this person hold right now" on every session create. The person index
// (tenant, bidx, id) would walk a busy person's whole history to answer it; this partial index holds only the
// live rows, so the question costs the same at a million historical rows as at ten.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`CREATE INDEX IF NOT EXISTS participants_person_active ON participants (tenant_id, number_bidx) WHERE active`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`DROP INDEX IF EXISTS participants_person_active`);
}
