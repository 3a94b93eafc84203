/**
 * Redis Kv (ioredis), used when REDIS_URL is set: shared by all replicas. One server or a Redis Cluster; how each is
 * connected, and why commands fail fast instead of queueing while Redis is away, is in redis-client.ts.
 *
 * On a cluster every command here names exactly one key (the scripts get it as KEYS[1]), so each runs in the key's
 * own slot and none can fail with CROSSSLOT; keys a caller reads together carry one hash tag (`{tenantId}`) so they
 * sit on one node. Channels are sharded there too (SPUBLISH/SSUBSCRIBE, Redis 7; see redis-client.ts).
 * Pub/sub is fire-and-forget, as in Redis: after a reconnect ioredis resubscribes, but messages published while a
 * replica was disconnected are gone. Use it for "go and re-read Postgres" hints, never as the only copy of a fact.
 * Keys and channels are prefixed by hand (not ioredis `keyPrefix`, which does not apply to pub/sub channels), so
 * several deployments or test runs can share one Redis.
 */
import { createHash } from "node:crypto";
import type { RedisTarget } from "../config.js";
import { checkIncrement, checkTtl, reportListenerError } from "./kv.js";
import type { Kv } from "./kv.js";
import { COMMAND_TIMEOUT_MS, errorMessage, openRedisConnection } from "./redis-client.js";

// INCRBY, then give the key its TTL only if it has none (PTTL -1). Equivalent to INCRBY + PEXPIRE … NX, which needs
// Redis 7; the script works on any version. Atomic, so a crash can't leave a counter without expiry (a rate-limit
// window that never closes).
const INCREMENT_SCRIPT = `
local v = redis.call('INCRBY', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) == -1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return v`;
const INCREMENT_SHA = createHash("sha1").update(INCREMENT_SCRIPT).digest("hex");

// GET, and SET … PX … only when there was nothing: one atomic step that also tells the caller what it lost to.
// (SET NX GET does the same on Redis 7 only; the script runs on any version.)
const PUT_IF_ABSENT_SCRIPT = `
local v = redis.call('GET', KEYS[1])
if v then return v end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false`;
const PUT_IF_ABSENT_SHA = createHash("sha1").update(PUT_IF_ABSENT_SCRIPT).digest("hex");

export async function createRedisKv(target: RedisTarget, opts: { keyPrefix?: string } = {}): Promise<Kv> {
  const prefix = opts.keyPrefix ?? "";
  // A brace in the prefix would become every key's hash tag on a cluster: all of kv on one node.
  if (/[{}]/.test(prefix)) throw new RangeError("kv: keyPrefix must not contain { or }");
  const k = (key: string) => prefix + key;

  const handlers = new Map<string, Set<(message: string) => void>>();
  let closed = false;
  const connection = await openRedisConnection(target, {
    scripts: [PUT_IF_ABSENT_SCRIPT, INCREMENT_SCRIPT],
    onMessage(channel, message) {
      if (!channel.startsWith(prefix)) return;
      const name = channel.slice(prefix.length);
      for (const handler of [...(handlers.get(name) ?? [])]) {
        try {
          handler(message);
        } catch (err) {
          reportListenerError(name, err);
        }
      }
    },
  });
  const { client } = connection;

  function assertOpen(): void {
    if (closed) throw new Error("kv: closed");
  }

  /** EVALSHA, loading the script on the first NOSCRIPT (a restarted or flushed Redis, or a new cluster node, lacks it). */
  async function evalScript(sha: string, script: string, key: string, ...args: Array<string | number>): Promise<unknown> {
    try {
      return await client.evalsha(sha, 1, k(key), ...args);
    } catch (err) {
      if (!errorMessage(err).startsWith("NOSCRIPT")) throw err;
      return client.eval(script, 1, k(key), ...args); // loads it for next time
    }
  }

  const kv: Kv = {
    async putIfAbsent(key, value, ttlMs) {
      assertOpen();
      const existing = await evalScript(PUT_IF_ABSENT_SHA, PUT_IF_ABSENT_SCRIPT, key, value, checkTtl(ttlMs));
      return typeof existing === "string" ? existing : null;
    },

    async get(key) {
      assertOpen();
      return client.get(k(key));
    },

    async increment(key, by, ttlMs) {
      assertOpen();
      return Number(await evalScript(INCREMENT_SHA, INCREMENT_SCRIPT, key, checkIncrement(by), checkTtl(ttlMs)));
    },

    async publish(channel, message) {
      assertOpen();
      await connection.publish(k(channel), message);
    },

    async subscribe(channel, onMessage) {
      assertOpen();
      const sub = await connection.subscriber();
      // Wrapped so the same function subscribed twice gets two independent subscriptions.
      const handler = (message: string) => onMessage(message);
      let set = handlers.get(channel);
      if (!set) {
        set = new Set();
        handlers.set(channel, set);
      }
      set.add(handler);
      // Resolve only once Redis has acknowledged SUBSCRIBE, so a publish after `await subscribe()` is delivered.
      // (Repeating SUBSCRIBE for an already-subscribed channel is harmless and keeps this free of in-flight state.)
      // Bounded here too: however a subscriber connection is made, a hung one must not hang the caller's close().
      try {
        await withTimeout(sub.subscribe(k(channel)), COMMAND_TIMEOUT_MS, "SUBSCRIBE");
      } catch (err) {
        set.delete(handler);
        if (set.size === 0 && handlers.get(channel) === set) handlers.delete(channel);
        throw err;
      }
      let active = true;
      return async () => {
        if (!active) return;
        active = false;
        const current = handlers.get(channel);
        if (!current) return;
        current.delete(handler);
        if (current.size === 0) {
          handlers.delete(channel);
          // Commands on one connection run in order, so a SUBSCRIBE issued after this UNSUBSCRIBE still wins.
          if (!closed) await withTimeout(sub.unsubscribe(k(channel)), COMMAND_TIMEOUT_MS, "UNSUBSCRIBE").catch(() => {});
        }
      };
    },

    async close() {
      if (closed) return;
      closed = true;
      handlers.clear();
      await connection.close();
    },
  };
  return Object.freeze(kv);
}

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`kv: ${what} took more than ${ms} ms`)), ms);
  });
  work.catch(() => undefined); // an abandoned command must not surface later as an unhandled rejection
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}
