import type { Knex } from "knex";

export interface AppRow {
  id: string;
  tenant_id: string;
  name: string;
  vobiz_auth_id: string;
  auth_token_enc: string;
  signature_required: boolean;
  default_country: string;
  ring_timeout_seconds: number;
  /** The `<Dial timeLimit>`: the longest a bridged call may last. */
  max_call_seconds: number;
  /** Sessions record their calls unless they say otherwise. */
  record_calls: boolean;
  messages: Record<string, string>;
  url_secret: string;
  /** When a carrier request with a valid signature last arrived (to about the minute); written by touchSignedRequest. */
  last_signed_request_at?: Date | null;
  created_at: Date;
  updated_at: Date;
}

/**
 * The app and its webhook lookup (app_lookup: app id → tenant, a reference table under Citus, see
 * docs/scaling.md). Two statements, so only in a transaction: both commit or neither does.
 */
export async function insertApp(db: Knex.Transaction, row: Omit<AppRow, "created_at" | "updated_at">): Promise<AppRow> {
  const [inserted] = await db<AppRow>("apps").insert(row).returning("*");
  await db("app_lookup").insert({ app_id: row.id, tenant_id: row.tenant_id });
  return inserted!;
}

export async function findApp(db: Knex, tenantId: string, id: string): Promise<AppRow | undefined> {
  return db<AppRow>("apps").where({ tenant_id: tenantId, id }).first();
}

/**
 * The webhook's lookup: the app id in the URL names the tenant; nothing else is trusted to. The tenant comes from
 * app_lookup first, then the app is read as that tenant's row (the app cache keeps both off the call path).
 */
export async function findAppForWebhook(db: Knex, id: string): Promise<AppRow | undefined> {
  const owner = await db<{ app_id: string; tenant_id: string }>("app_lookup").select("tenant_id").where({ app_id: id }).first();
  return owner ? findApp(db, owner.tenant_id, id) : undefined;
}

export async function listApps(db: Knex, tenantId: string, page: { limit: number; after?: string }) {
  const q = db<AppRow>("apps").where({ tenant_id: tenantId }).orderBy("id", "desc").limit(page.limit + 1);
  if (page.after) q.where("id", "<", page.after);
  return q;
}

export async function updateApp(db: Knex, tenantId: string, id: string, patch: Partial<AppRow>) {
  const [row] = await db<AppRow>("apps")
    .where({ tenant_id: tenantId, id })
    .update({ ...patch, updated_at: db.fn.now() as unknown as Date })
    .returning("*");
  return row;
}

/**
 * Records that a signed carrier request arrived for the app, unless one was recorded within `resolutionMs` (by any
 * replica): at most one write a minute per app, off the call's path.
 */
export async function touchSignedRequest(db: Knex, tenantId: string, id: string, at: Date, resolutionMs: number): Promise<void> {
  await db<AppRow>("apps")
    .where({ tenant_id: tenantId, id })
    .where((w) => w.whereNull("last_signed_request_at").orWhere("last_signed_request_at", "<", new Date(at.getTime() - resolutionMs)))
    .update({ last_signed_request_at: at });
}
