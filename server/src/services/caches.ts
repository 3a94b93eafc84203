import type { AppRow } from "../stores/apps.js";
import type { SharedCache } from "./shared-cache.js";

/**
 * What the two shared caches hold and how they are keyed. deps.ts names these types, app-cache.ts builds the
 * caches, the services read and invalidate them: a module of its own, so none of those imports another's code.
 */

/** An app as the services hand it to the carrier webhooks: its stored record, the auth token still encrypted. */
export type AppRecord = AppRow;

/** What the webhooks need of an app, with its auth token already decrypted. */
export interface WebhookApp {
  row: AppRecord;
  authToken: string;
}
export type AppCache = SharedCache<WebhookApp>;

export interface PoolMembers {
  appId: string;
  /** Active DIDs, oldest first. */
  dids: Array<{ id: string; e164: string }>;
}
export type PoolCache = SharedCache<PoolMembers>;

// Tenant ids are ours and never hold a NUL: the first one ends the tenant id, whatever the pool name holds.
export const poolKey = (tenantId: string, pool: string) => `${tenantId}\u0000${pool}`;

/** The tenant and pool a poolKey names. */
export function poolOfKey(key: string): { tenantId: string; pool: string } {
  const at = key.indexOf("\u0000");
  return { tenantId: key.slice(0, at), pool: key.slice(at + 1) };
}
