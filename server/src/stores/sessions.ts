import type { Knex } from "knex";

export interface SessionRow {
  id: string;
  tenant_id: string;
  app_id: string;
  pool: string;
  mode: "two_way" | "one_way";
  status: "open" | "closed" | "expired";
  reference: string | null;
  metadata: Record<string, string>;
  created_at: Date;
  expires_at: Date;
  closed_at: Date | null;
}

export interface ParticipantRow {
  id: string;
  tenant_id: string;
  session_id: string;
  position: number;
  label: string | null;
  number_enc: string;
  number_bidx: string;
  masked_number: string;
  proxy_number_id: string;
  active: boolean;
  created_at: Date;
  released_at: Date | null;
}

/** A participant as the API shows it: never the real number, only its masked form and the proxy DID. */
export type ParticipantView = Pick<ParticipantRow, "id" | "session_id" | "position" | "label" | "masked_number"> & {
  proxy_e164: string;
};

export async function insertSession(db: Knex, row: Omit<SessionRow, "created_at" | "closed_at" | "status">) {
  const [inserted] = await db<SessionRow>("sessions").insert(row).returning("*");
  return inserted!;
}

export async function insertParticipants(db: Knex, rows: Array<Omit<ParticipantRow, "created_at" | "released_at" | "active">>) {
  await db<ParticipantRow>("participants").insert(rows);
}

export async function findSession(db: Knex, tenantId: string, id: string, opts: { forUpdate?: boolean } = {}) {
  const q = db<SessionRow>("sessions").where({ tenant_id: tenantId, id }).first();
  if (opts.forUpdate) q.forUpdate();
  return q;
}

export async function participantViews(db: Knex, tenantId: string, sessionIds: string[]): Promise<ParticipantView[]> {
  if (sessionIds.length === 0) return [];
  return db("participants as p")
    .join("numbers as n", "n.id", "p.proxy_number_id")
    .select("p.id", "p.session_id", "p.position", "p.label", "p.masked_number", "n.e164 as proxy_e164")
    .where("p.tenant_id", tenantId)
    .whereIn("p.session_id", sessionIds)
    .orderBy([{ column: "p.session_id" }, { column: "p.position" }]);
}

export interface SessionFilter {
  status?: "open" | "closed" | "expired";
  reference?: string;
  pool?: string;
  limit: number;
  after?: string;
}

export async function listSessions(db: Knex, tenantId: string, f: SessionFilter, now: Date) {
  const q = db<SessionRow>("sessions").where({ tenant_id: tenantId }).orderBy("id", "desc").limit(f.limit + 1);
  if (f.after) q.where("id", "<", f.after);
  if (f.reference) q.where({ reference: f.reference });
  if (f.pool) q.where({ pool: f.pool });
  // Status as callers see it: an open session past expires_at is expired even before the sweeper marks it.
  if (f.status === "open") q.where({ status: "open" }).where("expires_at", ">", now);
  if (f.status === "closed") q.where({ status: "closed" });
  if (f.status === "expired") {
    q.where((w) => w.where({ status: "expired" }).orWhere((o) => o.where({ status: "open" }).where("expires_at", "<=", now)));
  }
  return q;
}

/** Releases every active participant of a person whose session is no longer open and unexpired. */
export async function releaseEndedParticipantsOf(db: Knex, tenantId: string, bidxs: string[], now: Date) {
  return db("participants as p")
    .update({ active: false, released_at: now })
    .where("p.tenant_id", tenantId)
    .whereIn("p.number_bidx", bidxs)
    .where("p.active", true)
    .whereExists((sub) =>
      sub
        .select(db.raw("1"))
        .from("sessions as s")
        .whereRaw("s.id = p.session_id")
        .where((w) => w.whereNot("s.status", "open").orWhere("s.expires_at", "<=", now)),
    );
}

export async function heldDids(db: Knex, tenantId: string, bidxs: string[]) {
  return db<ParticipantRow>("participants")
    .select("number_bidx", "proxy_number_id")
    .where({ tenant_id: tenantId, active: true })
    .whereIn("number_bidx", bidxs);
}

/** Each person's most recent DID (any session, any state): the sticky preference. */
export async function lastDids(db: Knex, tenantId: string, bidxs: string[]) {
  return db<ParticipantRow>("participants")
    .distinctOn("number_bidx")
    .select("number_bidx", "proxy_number_id")
    .where({ tenant_id: tenantId })
    .whereIn("number_bidx", bidxs)
    .orderBy([{ column: "number_bidx" }, { column: "id", order: "desc" }]);
}

/** Closes an open, unexpired session; an expired one stays expired (its status is what happened to it). */
export async function closeSession(db: Knex, tenantId: string, id: string, now: Date) {
  const [row] = await db<SessionRow>("sessions")
    .where({ tenant_id: tenantId, id, status: "open" })
    .where("expires_at", ">", now)
    .update({ status: "closed", closed_at: now })
    .returning("*");
  return row;
}

export async function releaseSessionParticipants(db: Knex, tenantId: string, sessionIds: string[], now: Date) {
  if (sessionIds.length === 0) return 0;
  return db<ParticipantRow>("participants")
    .where({ tenant_id: tenantId, active: true })
    .whereIn("session_id", sessionIds)
    .update({ active: false, released_at: now });
}

export async function updateSession(db: Knex, tenantId: string, id: string, patch: Partial<Pick<SessionRow, "expires_at" | "metadata">>) {
  const [row] = await db<SessionRow>("sessions").where({ tenant_id: tenantId, id }).update(patch).returning("*");
  return row!;
}
