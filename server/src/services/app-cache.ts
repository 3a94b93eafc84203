import type { Deps } from "../deps.js";
import { findAppForWebhook } from "../stores/apps.js";
import { activePoolNumbers } from "../stores/numbers.js";
import { poolOfKey, type AppCache, type PoolCache } from "./caches.js";
import { createSharedCache } from "./shared-cache.js";

/**
 * Every call's first step is "which app is this URL for": a Postgres read and an AES decryption that return the
 * same thing thousands of times a second. Apps change rarely and every change invalidates them, so the answer path
 * and the allocator read them from memory.
 */
export function createAppCache(deps: Pick<Deps, "db" | "kv" | "keys" | "logger">): AppCache {
  return createSharedCache({
    kv: deps.kv,
    logger: deps.logger,
    channel: "maskline:apps:changed",
    ttlMs: 10_000,
    maxEntries: 10_000,
    load: async (appId) => {
      const row = await findAppForWebhook(deps.db, appId);
      return row ? { row, authToken: deps.keys.decrypt(row.auth_token_enc) } : undefined;
    },
  });
}

/**
 * Which DIDs a pool has: read by every session create, changed only by imports and releases (which invalidate it).
 * Staleness cannot break the invariant: the allocator re-reads its picked DID under FOR SHARE inside its
 * transaction and picks again if it was released.
 */
export function createPoolCache(deps: Pick<Deps, "db" | "kv" | "logger">): PoolCache {
  return createSharedCache({
    kv: deps.kv,
    logger: deps.logger,
    channel: "maskline:pools:changed",
    ttlMs: 5_000,
    maxEntries: 10_000,
    load: async (key) => {
      const { tenantId, pool } = poolOfKey(key);
      const rows = await activePoolNumbers(deps.db, tenantId, pool);
      if (rows.length === 0) return undefined;
      return { appId: rows[0]!.app_id, dids: rows.map((r) => ({ id: r.id, e164: r.e164 })) };
    },
  });
}
