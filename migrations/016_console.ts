import type { Knex } from "knex";

// The web console (docs/console.md).
//
// console_sessions: one row per sign-in, the server's half of a console session (the browser holds a short-lived
// signed token naming the row). Keyed like idempotency_keys by its scope: the tenant's id, or 'operator' for the
// operator's sessions, so every probe names the tenant and a tenant's rows live on its shard. A request with the
// cookie reads its row (and, for a tenant, the API key it was opened with) every time: signing out, or revoking the
// key, ends the session on every replica at once. Nothing secret is stored: the CSRF token is derived from the id
// with a key of the service's (crypto/console-tokens.ts), and the operator token only as a fingerprint, so a changed
// MASKLINE_ADMIN_TOKEN ends the operator's sessions.
//
// apps.last_signed_request_at: when a carrier request with a valid signature last arrived for the app, written at
// most about once a minute per app (services/apps.ts), so the console can tell a tenant its URLs work.
//
// audit_events.console_session_id: the console session a change was made in (null: with the key or token itself).
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE console_sessions (
      scope text NOT NULL,
      id text NOT NULL,
      kind text NOT NULL CHECK (kind IN ('tenant', 'operator')),
      api_key_id text,
      credential_fingerprint text,
      created_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      revoked_at timestamptz,
      PRIMARY KEY (scope, id),
      CONSTRAINT console_sessions_kind CHECK (
        (kind = 'tenant' AND api_key_id IS NOT NULL AND scope <> 'operator') OR
        (kind = 'operator' AND scope = 'operator' AND credential_fingerprint IS NOT NULL)
      )
    )`);
  // The retention purge's range scan (ended sessions are deleted a day after they end).
  await knex.raw("CREATE INDEX console_sessions_expires_at ON console_sessions (expires_at)");
  await knex.raw("ALTER TABLE apps ADD COLUMN last_signed_request_at timestamptz");
  await knex.raw("ALTER TABLE audit_events ADD COLUMN console_session_id text");
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw("ALTER TABLE audit_events DROP COLUMN console_session_id");
  await knex.raw("ALTER TABLE apps DROP COLUMN last_signed_request_at");
  await knex.raw("DROP TABLE console_sessions");
}
