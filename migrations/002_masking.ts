import type { Knex } from "knex";

// Apps, masking DIDs, sessions, participants and calls: docs/architecture.md.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("apps", (t) => {
    t.text("id").primary();
    t.text("tenant_id").notNullable().references("tenants.id").onDelete("CASCADE");
    t.text("name").notNullable();
    t.text("vobiz_auth_id").notNullable();
    t.text("auth_token_enc").notNullable();
    t.boolean("signature_required").notNullable().defaultTo(true);
    t.text("default_country").notNullable().defaultTo("IN");
    t.integer("ring_timeout_seconds").notNullable().defaultTo(30);
    t.jsonb("messages").notNullable().defaultTo("{}");
    t.text("url_secret").notNullable();
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp("updated_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(["tenant_id", "id"]);
  });

  await knex.schema.createTable("numbers", (t) => {
    t.text("id").primary();
    t.text("tenant_id").notNullable().references("tenants.id").onDelete("CASCADE");
    t.text("app_id").notNullable().references("apps.id").onDelete("CASCADE");
    t.text("e164").notNullable();
    t.text("pool").notNullable();
    t.text("status").notNullable().defaultTo("active");
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp("released_at", { useTz: true });
    t.index(["tenant_id", "pool", "status"]);
    t.index(["tenant_id", "id"]);
  });
  await knex.raw(`CREATE UNIQUE INDEX numbers_active_e164 ON numbers (tenant_id, e164) WHERE status = 'active'`);
  // A DID is a carrier resource: it belongs to one app of one tenant at a time. This small table is the
  // global claim (a reference table under Citus), keeping every unique index on tenant tables tenant-led.
  await knex.schema.createTable("number_claims", (t) => {
    t.text("e164").primary();
    t.text("tenant_id").notNullable().references("tenants.id").onDelete("CASCADE");
    t.text("number_id").notNullable().references("numbers.id").onDelete("CASCADE");
  });

  await knex.schema.createTable("sessions", (t) => {
    t.text("id").primary();
    t.text("tenant_id").notNullable().references("tenants.id").onDelete("CASCADE");
    t.text("app_id").notNullable().references("apps.id").onDelete("CASCADE");
    t.text("pool").notNullable();
    t.text("mode").notNullable();
    t.text("status").notNullable().defaultTo("open");
    t.text("reference");
    t.jsonb("metadata").notNullable().defaultTo("{}");
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp("expires_at", { useTz: true }).notNullable();
    t.timestamp("closed_at", { useTz: true });
    t.index(["tenant_id", "id"]);
    t.index(["tenant_id", "reference"]);
  });
  await knex.raw(`CREATE INDEX sessions_open_expiry ON sessions (expires_at) WHERE status = 'open'`);

  await knex.schema.createTable("participants", (t) => {
    t.text("id").primary();
    t.text("tenant_id").notNullable().references("tenants.id").onDelete("CASCADE");
    t.text("session_id").notNullable().references("sessions.id").onDelete("CASCADE");
    t.smallint("position").notNullable();
    t.text("label");
    t.text("number_enc").notNullable();
    t.text("number_bidx").notNullable();
    t.text("masked_number").notNullable();
    t.text("proxy_number_id").notNullable().references("numbers.id");
    t.boolean("active").notNullable().defaultTo(true);
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp("released_at", { useTz: true });
    t.index(["session_id"]);
  });
  // The allocation invariant (docs/architecture.md, "The allocation invariant"): one active row per (tenant, person, DID).
  await knex.raw(
    `CREATE UNIQUE INDEX participants_active_pairing ON participants (tenant_id, proxy_number_id, number_bidx) WHERE active`,
  );
  // A person's history, newest first: the DIDs they hold now and the one they had last (sticky choice).
  await knex.raw(`CREATE INDEX participants_person ON participants (tenant_id, number_bidx, id DESC)`);

  await knex.schema.createTable("calls", (t) => {
    t.text("id").primary();
    t.text("tenant_id").notNullable().references("tenants.id").onDelete("CASCADE");
    t.text("app_id").notNullable().references("apps.id").onDelete("CASCADE");
    t.text("call_uuid").notNullable();
    t.text("session_id");
    t.text("proxy_number");
    t.text("from_participant_id");
    t.text("to_participant_id");
    t.text("decision").notNullable();
    t.text("status").notNullable();
    t.text("dial_status");
    t.text("reply_enc");
    t.timestamp("started_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp("answered_at", { useTz: true });
    t.timestamp("ended_at", { useTz: true });
    t.integer("duration_seconds");
    t.text("hangup_cause");
    t.timestamp("updated_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(["tenant_id", "call_uuid"]);
    t.index(["tenant_id", "id"]);
    t.index(["tenant_id", "session_id", "id"]);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ["calls", "participants", "sessions", "number_claims", "numbers", "apps"]) {
    await knex.schema.dropTable(table);
  }
}
