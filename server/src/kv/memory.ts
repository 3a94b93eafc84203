/**
 * In-process Kv for a single replica (no REDIS_URL) and for tests.
 *
 * Expiry is checked lazily on every read, and an unref'd timer sweeps expired entries so keys that are written once
 * and never read again (most nonces) do not accumulate forever. `clock` is injectable so TTL logic can be tested
 * without sleeping. Pub/sub reaches only this instance's subscribers, which is exactly "all replicas" when there is
 * one; deliveries are asynchronous, like Redis, so nothing comes to depend on synchronous delivery.
 */
import { EventEmitter } from "node:events";
import { checkIncrement, checkTtl, reportListenerError } from "./kv.js";
import type { Kv } from "./kv.js";

const SWEEP_INTERVAL_MS = 30_000;
const INTEGER = /^-?\d+$/;

interface Entry {
  value: string;
  expiresAt: number;
}

export function createMemoryKv(clock: () => number = Date.now): Kv {
  const entries = new Map<string, Entry>();
  const bus = new EventEmitter();
  bus.setMaxListeners(0); // many subscribers per channel are normal here, not a leak
  let closed = false;

  const sweep = setInterval(() => {
    const now = clock();
    for (const [key, entry] of entries) if (entry.expiresAt <= now) entries.delete(key);
  }, SWEEP_INTERVAL_MS);
  sweep.unref(); // never keep the process alive just to sweep

  function assertOpen(): void {
    if (closed) throw new Error("kv: closed");
  }

  function live(key: string): Entry | undefined {
    const entry = entries.get(key);
    if (entry && entry.expiresAt <= clock()) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  }

  // Every method is async so argument and state errors surface as rejections, the same as with Redis.
  const kv: Kv = {
    async putIfAbsent(key, value, ttlMs) {
      assertOpen();
      const ttl = checkTtl(ttlMs);
      const existing = live(key);
      if (existing) return existing.value;
      entries.set(key, { value, expiresAt: clock() + ttl });
      return null;
    },

    async get(key) {
      assertOpen();
      return live(key)?.value ?? null;
    },

    async increment(key, by, ttlMs) {
      assertOpen();
      const step = checkIncrement(by);
      const ttl = checkTtl(ttlMs);
      const entry = live(key);
      if (!entry) {
        entries.set(key, { value: String(step), expiresAt: clock() + ttl });
        return step;
      }
      if (!INTEGER.test(entry.value)) throw new Error("kv: value is not an integer");
      const next = Number(entry.value) + step;
      if (!Number.isSafeInteger(next)) throw new Error("kv: increment would overflow");
      entry.value = String(next); // keeps its original expiry, like INCRBY on a key with a TTL
      return next;
    },

    async publish(channel, message) {
      assertOpen();
      // Snapshot the listeners now (what Redis does at PUBLISH time), deliver on a later tick.
      const listeners = bus.listeners(channel) as Array<(message: string) => void>;
      if (listeners.length === 0) return;
      setImmediate(() => {
        for (const listener of listeners) {
          try {
            listener(message);
          } catch (err) {
            reportListenerError(channel, err);
          }
        }
      });
    },

    async subscribe(channel, onMessage) {
      assertOpen();
      // Wrap so the same function subscribed twice gets two independent subscriptions.
      // `active` is checked at delivery so nothing arrives after unsubscribe() resolved (same as the Redis adapter).
      let active = true;
      const listener = (message: string) => {
        if (active) onMessage(message);
      };
      bus.on(channel, listener);
      return async () => {
        if (!active) return;
        active = false;
        bus.off(channel, listener);
      };
    },

    async close() {
      if (closed) return;
      closed = true;
      clearInterval(sweep);
      entries.clear();
      bus.removeAllListeners();
    },
  };
  return Object.freeze(kv);
}
