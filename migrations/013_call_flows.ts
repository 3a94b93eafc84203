import type { Knex } from "knex";

// Call flows beyond the two-row lookup (docs/call-flows.md): recording with consent, single-number PIN sessions and
// click-to-call.
//
// PIN sessions put both participants on one DID, each with a keyed hash of the PIN that reaches the other. Those rows
// are routed by (DID, PIN), never by (DID, caller), so the allocation invariant's pairing index leaves them out (one
// person may be in many PIN sessions on the same DID) and a unique index makes a PIN unique among the DID's live PIN
// rows. The pairing index is rebuilt with the narrower predicate; the routing probe names it (stores/routing.ts).
// participants_person_active keeps every live row, PIN ones included: a number session avoids a DID the person
// already reaches by PIN, so (caller, DID) never names both.
//
// `call_steps`: one row per step of a carrier conversation after the first answer (a PIN attempt, the answer of a
// call we placed), holding the reply sent (encrypted: it can name a real number). Its key makes each step happen
// once, however the carrier retries it, and its insert is the lock concurrent retries wait on.
//
// `pin_lockouts`: per (DID, caller), the recent wrong PINs and until when the caller is locked out; one row, updated
// under its row lock, so concurrent attempts on any replica count exactly.
//
// `recordings`: what the carrier recorded, by its id; the audio stays at the carrier. No foreign key to calls: a
// recording must outlive nothing that would let it be forgotten before the carrier's copy is deleted.
export async function up(knex: Knex): Promise<void> {
  await knex.raw("ALTER TABLE apps ADD COLUMN record_calls boolean NOT NULL DEFAULT false");
  await knex.raw("ALTER TABLE sessions ADD COLUMN routing text NOT NULL DEFAULT 'number' CHECK (routing IN ('number', 'pin'))");
  await knex.raw("ALTER TABLE sessions ADD COLUMN recording boolean NOT NULL DEFAULT false");

  await knex.raw("ALTER TABLE participants ADD COLUMN pin_hash text");
  await knex.raw("DROP INDEX participants_active_pairing");
  await knex.raw(
    "CREATE UNIQUE INDEX participants_active_pairing ON participants (tenant_id, proxy_number_id, number_bidx) WHERE active AND pin_hash IS NULL",
  );
  await knex.raw(
    "CREATE UNIQUE INDEX participants_active_pin ON participants (tenant_id, proxy_number_id, pin_hash) WHERE active AND pin_hash IS NOT NULL",
  );

  await knex.raw("ALTER TABLE calls ALTER COLUMN call_uuid DROP NOT NULL");
  // The hash of a placed call's own URL secret (`t`): its answer and hangup URLs are the call's, not the app's.
  await knex.raw("ALTER TABLE calls ADD COLUMN call_secret_hash text");

  await knex.raw(`
    CREATE TABLE call_steps (
      tenant_id text NOT NULL,
      call_id text NOT NULL,
      step text NOT NULL,
      reply_enc text,
      created_at timestamptz NOT NULL,
      PRIMARY KEY (tenant_id, call_id, step),
      CONSTRAINT call_steps_call_foreign FOREIGN KEY (tenant_id, call_id) REFERENCES calls (tenant_id, id) ON DELETE CASCADE
    )`);

  await knex.raw(`
    CREATE TABLE pin_lockouts (
      tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      number_id text NOT NULL,
      caller_bidx text NOT NULL,
      failures timestamptz[] NOT NULL DEFAULT '{}',
      locked_until timestamptz,
      updated_at timestamptz NOT NULL,
      PRIMARY KEY (tenant_id, number_id, caller_bidx)
    )`);
  await knex.raw("CREATE INDEX pin_lockouts_updated ON pin_lockouts (updated_at)");

  await knex.raw(`
    CREATE TABLE recordings (
      tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      id text NOT NULL,
      app_id text NOT NULL,
      call_id text NOT NULL,
      session_id text,
      carrier_recording_id text NOT NULL,
      duration_seconds integer,
      format text NOT NULL CHECK (format IN ('mp3', 'wav')),
      created_at timestamptz NOT NULL,
      PRIMARY KEY (tenant_id, id)
    )`);
  await knex.raw("CREATE UNIQUE INDEX recordings_carrier_id ON recordings (tenant_id, carrier_recording_id)");
  await knex.raw("CREATE INDEX recordings_call ON recordings (tenant_id, call_id, id)");
  await knex.raw("CREATE INDEX recordings_session ON recordings (tenant_id, session_id, id)");
  await knex.raw("CREATE INDEX recordings_created_at ON recordings (tenant_id, created_at)");
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw("DROP TABLE recordings");
  await knex.raw("DROP TABLE pin_lockouts");
  await knex.raw("DROP TABLE call_steps");
  await knex.raw("ALTER TABLE calls DROP COLUMN call_secret_hash");
  await knex.raw("ALTER TABLE calls ALTER COLUMN call_uuid SET NOT NULL");
  await knex.raw("DROP INDEX participants_active_pin");
  await knex.raw("DROP INDEX participants_active_pairing");
  await knex.raw("ALTER TABLE participants DROP COLUMN pin_hash");
  await knex.raw("CREATE UNIQUE INDEX participants_active_pairing ON participants (tenant_id, proxy_number_id, number_bidx) WHERE active");
  await knex.raw("ALTER TABLE sessions DROP COLUMN recording");
  await knex.raw("ALTER TABLE sessions DROP COLUMN routing");
  await knex.raw("ALTER TABLE apps DROP COLUMN record_calls");
}
