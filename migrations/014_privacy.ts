import type { Knex } from "knex";

// Privacy operations (docs/privacy.md): erasing a person, exporting what is held about one, rotating the master key.
//
// An erased participant keeps its row (its session and calls still add up) but loses the number: ciphertext, blind
// index and masked form become null, `erased_at` says when. `pin_key_id` names the key a PIN hash was made with: a
// hash cannot be re-keyed without the PIN, so a rotation counts the live ones still under an old key.
//
// `idempotency_keys.subject_bidxs`: the blind indexes of the people a request named (a create's participants), so
// an erasure finds and removes the stored requests and results that name them.
//
// `erasures` and `exports` are the jobs' records: counts and times for an erasure, never the number; an export's
// result encrypted (it is one person's data), purged after 7 days. Neither keeps the number: their jobs carry its
// blind indexes only.
export async function up(knex: Knex): Promise<void> {
  await knex.raw("ALTER TABLE participants ALTER COLUMN number_enc DROP NOT NULL");
  await knex.raw("ALTER TABLE participants ALTER COLUMN number_bidx DROP NOT NULL");
  await knex.raw("ALTER TABLE participants ALTER COLUMN masked_number DROP NOT NULL");
  await knex.raw("ALTER TABLE participants ADD COLUMN erased_at timestamptz");
  await knex.raw("ALTER TABLE participants ADD COLUMN pin_key_id text");

  await knex.raw("ALTER TABLE idempotency_keys ADD COLUMN subject_bidxs text[] NOT NULL DEFAULT '{}'");

  await knex.raw(`
    CREATE TABLE erasures (
      tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      id text NOT NULL,
      status text NOT NULL CHECK (status IN ('pending', 'running', 'completed', 'failed')),
      counts jsonb,
      -- Recordings whose deletion at the carrier the erasure waits for (ids only).
      pending_recordings text[] NOT NULL DEFAULT '{}',
      error text,
      created_at timestamptz NOT NULL,
      completed_at timestamptz,
      PRIMARY KEY (tenant_id, id)
    )`);
  await knex.raw(`
    CREATE TABLE exports (
      tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      id text NOT NULL,
      status text NOT NULL CHECK (status IN ('pending', 'running', 'completed', 'failed')),
      -- The blind indexes of the person (every live key's), so an erasure removes their exports too.
      subject_bidxs text[] NOT NULL,
      result_enc text,
      error text,
      created_at timestamptz NOT NULL,
      completed_at timestamptz,
      PRIMARY KEY (tenant_id, id)
    )`);
  await knex.raw("CREATE INDEX exports_created_at ON exports (tenant_id, created_at)");
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw("DROP TABLE exports");
  await knex.raw("DROP TABLE erasures");
  await knex.raw("ALTER TABLE idempotency_keys DROP COLUMN subject_bidxs");
  await knex.raw("ALTER TABLE participants DROP COLUMN pin_key_id");
  await knex.raw("ALTER TABLE participants DROP COLUMN erased_at");
}
