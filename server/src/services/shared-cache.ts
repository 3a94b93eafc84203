import type { Kv } from "../kv/kv.js";
import type { Logger } from "pino";

/**
 * An in-process cache of rarely-changing configuration (apps, pool membership) that every replica drops at once
 * when it changes: the change is announced on a kv channel (Redis pub/sub across replicas). The TTL is only a
 * safety net for a lost notice. Never used for sessions or people: those always come from Postgres.
 */
export interface SharedCache<V> {
  get(key: string): Promise<V | undefined>;
  /** Drops the key here at once, and on every other replica through kv. */
  invalidate(key: string): Promise<void>;
  close(): Promise<void>;
}

export function createSharedCache<V>(opts: {
  kv: Kv;
  logger: Logger;
  channel: string;
  ttlMs: number;
  maxEntries: number;
  load: (key: string) => Promise<V | undefined>;
}): SharedCache<V> {
  const entries = new Map<string, { value: V; expiresAt: number }>();
  const loading = new Map<string, Promise<V | undefined>>();
  // Bumped by every change notice, so a load that raced a change never caches what it read before the change.
  let generation = 0;
  const drop = (key: string) => {
    generation++;
    entries.delete(key);
  };
  let unsubscribe: Promise<() => Promise<void>> | null = opts.kv.subscribe(opts.channel, drop).catch((err: unknown) => {
    opts.logger.warn({ err, channel: opts.channel }, "cache: cannot subscribe to change notices; relying on the TTL");
    return async () => undefined;
  });

  async function load(key: string): Promise<V | undefined> {
    const seen = generation;
    const value = await opts.load(key);
    if (seen !== generation) return value;
    if (value === undefined) entries.delete(key);
    else {
      if (!entries.has(key) && entries.size >= opts.maxEntries) entries.delete(entries.keys().next().value!);
      entries.set(key, { value, expiresAt: Date.now() + opts.ttlMs });
    }
    return value;
  }

  /** One load per key however many requests arrive together after an expiry. */
  function loadOnce(key: string): Promise<V | undefined> {
    let pending = loading.get(key);
    if (!pending) {
      pending = load(key).finally(() => loading.delete(key));
      loading.set(key, pending);
    }
    return pending;
  }

  return {
    async get(key) {
      const hit = entries.get(key);
      if (hit && hit.expiresAt > Date.now()) return hit.value;
      if (hit) {
        // Past its TTL (a safety net for a lost change notice): answer with what we know and refresh behind it.
        // If the database is away, the last known value keeps serving (an app's own "unavailable" message, a
        // pool's DIDs) instead of a failure or a default.
        loadOnce(key).catch((err: unknown) => opts.logger.debug({ err, channel: opts.channel }, "cache: refresh failed; serving the last known value"));
        return hit.value;
      }
      return loadOnce(key);
    },
    async invalidate(key) {
      drop(key);
      // The change is committed; a lost notice only delays other replicas until the TTL, so it never fails the request.
      await opts.kv.publish(opts.channel, key).catch((err: unknown) =>
        opts.logger.warn({ err, channel: opts.channel }, "cache: change notice not published; other replicas refresh at the TTL"),
      );
    },
    async close() {
      const stop = await unsubscribe;
      unsubscribe = null;
      await stop?.();
    },
  };
}
