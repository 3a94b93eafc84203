import type { Deps } from "../deps.js";
import { findAppForWebhook, type AppRow } from "../stores/apps.js";

/** What the webhooks need of an app, with its auth token already decrypted. */
export interface WebhookApp {
  row: AppRow;
  authToken: string;
}

export interface AppCache {
  /** The app for a webhook, from memory when fresh; undefined when no such app exists. */
  get(appId: string): Promise<WebhookApp | undefined>;
  /** Drops the app here at once and, through kv, on every other replica. */
  invalidate(appId: string): Promise<void>;
  close(): Promise<void>;
}

const CHANNEL = "maskline:apps:changed";
/** A safety net only: changes reach every replica through kv at once; this bounds staleness if a notice is lost. */
const TTL_MS = 10_000;
const MAX_ENTRIES = 10_000;

/**
 * Every call's first step is "which app is this URL for": a Postgres read and an AES decryption that return the
 * same thing thousands of times a second. Apps change rarely and every change invalidates them here, so the answer
 * path reads them from memory. Only apps live here: no session or person state is ever cached.
 */
export function createAppCache(deps: Pick<Deps, "db" | "kv" | "keys" | "logger">): AppCache {
  const entries = new Map<string, { app: WebhookApp; expiresAt: number }>();
  const loading = new Map<string, Promise<WebhookApp | undefined>>();
  // Bumped by every change notice, so a load that raced a change never caches what it read before the change.
  let generation = 0;
  let unsubscribe: Promise<() => Promise<void>> | null = deps.kv
    .subscribe(CHANNEL, (appId) => {
      generation++;
      entries.delete(appId);
    })
    .catch((err: unknown) => {
      deps.logger.warn({ err }, "app cache: cannot subscribe to change notices; relying on the TTL");
      return async () => undefined;
    });

  async function load(appId: string): Promise<WebhookApp | undefined> {
    const seen = generation;
    const row = await findAppForWebhook(deps.db, appId);
    if (!row) return undefined;
    const app = { row, authToken: deps.keys.decrypt(row.auth_token_enc) };
    if (seen === generation) {
      if (entries.size >= MAX_ENTRIES) entries.delete(entries.keys().next().value!);
      entries.set(appId, { app, expiresAt: Date.now() + TTL_MS });
    }
    return app;
  }

  return {
    async get(appId) {
      const hit = entries.get(appId);
      if (hit && hit.expiresAt > Date.now()) return hit.app;
      // One load per app however many calls arrive together after an expiry.
      let pending = loading.get(appId);
      if (!pending) {
        pending = load(appId).finally(() => loading.delete(appId));
        loading.set(appId, pending);
      }
      return pending;
    },
    async invalidate(appId) {
      generation++;
      entries.delete(appId);
      await deps.kv.publish(CHANNEL, appId);
    },
    async close() {
      const stop = await unsubscribe;
      unsubscribe = null;
      await stop?.();
    },
  };
}
