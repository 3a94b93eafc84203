/**
 * The key-value port: state the replicas share and may lose. Today that is carrier nonces (the replay guard's
 * first check), the tenant API's rate-limit counters, and the notices that tell every replica's app and pool caches
 * to re-read a changed row (publish/subscribe). Postgres stays the source of truth: the replay guard falls back to
 * its Postgres ledger, the limiter fails open, the caches expire; nothing stored here is needed to route a call.
 *
 * Two adapters: `memory.ts` (one process, no REDIS_URL) and `redis.ts` (one server or a Redis Cluster). Both pass
 * test/unit/kv-contract.test.ts. Every verb names one key, so on a cluster each runs in that key's slot.
 */
export interface Kv {
  /**
   * Set only if absent, atomically: null when this call stored `value`, otherwise the value already there (so a
   * caller can tell its own retry from someone else's claim).
   */
  putIfAbsent(key: string, value: string, ttlMs: number): Promise<string | null>;
  get(key: string): Promise<string | null>;
  /** Atomically add `by` and return the new value; the TTL is set when the key is created. */
  increment(key: string, by: number, ttlMs: number): Promise<number>;
  publish(channel: string, message: string): Promise<void>;
  /** Returns an unsubscribe function. */
  subscribe(channel: string, onMessage: (message: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/**
 * Shared argument checks, so both adapters reject the same inputs the same way (Redis would reject a fractional or
 * non-positive PX/INCRBY with a less helpful message, and memory would silently accept it).
 * Every key must expire: nothing in this store is meant to live forever.
 */
export function checkTtl(ttlMs: number): number {
  if (typeof ttlMs !== "number" || !Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new RangeError(`kv: ttlMs must be a positive number of milliseconds (got ${String(ttlMs)})`);
  }
  return Math.ceil(ttlMs);
}

export function checkIncrement(by: number): number {
  if (!Number.isSafeInteger(by)) throw new RangeError(`kv: increment must be a safe integer (got ${String(by)})`);
  return by;
}

/**
 * A subscriber that throws must not break delivery to the others or crash the process from inside a Redis socket
 * callback; surface it as a process warning (visible in logs, not fatal).
 */
export function reportListenerError(channel: string, err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  process.emitWarning(`kv subscriber for channel ${JSON.stringify(channel)} threw: ${message}`, "KvListenerWarning");
}
