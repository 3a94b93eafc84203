/**
 * Redis Kv (ioredis), used when REDIS_URL is set: shared by all replicas (design §6).
 *
 * Failure behaviour is the point of most choices here:
 *   - Start-up fails fast: one connection attempt with a ~2 s timeout, no retries, an Error naming REDIS_URL (and the
 *     host, never the credentials). A replica that silently ran without its shared state would accept replayed
 *     webhooks and ignore rate limits.
 *   - After start-up, ioredis reconnects in the background, but commands do not queue while it is down
 *     (`enableOfflineQueue: false`) and each has a timeout: callers get a quick rejection and decide (fail open on a
 *     rate limit, fail closed on a nonce) instead of hanging a webhook past the carrier's deadline.
 * Pub/sub is fire-and-forget, as in Redis: after a reconnect ioredis resubscribes, but messages published while a
 * replica was disconnected are gone. Use it for "go and re-read Postgres" hints, never as the only copy of a fact.
 * Keys and channels are prefixed by hand (not ioredis `keyPrefix`, which does not apply to pub/sub channels), so
 * several deployments or test runs can share one Redis.
 */
import { createHash } from "node:crypto";
import { Redis } from "ioredis";
import type { RedisOptions } from "ioredis";
import { checkIncrement, checkTtl, reportListenerError } from "./kv.js";
import type { Kv } from "./kv.js";

const CONNECT_TIMEOUT_MS = 2_000;
const COMMAND_TIMEOUT_MS = 2_000;

// INCRBY, then give the key its TTL only if it has none (PTTL -1). Equivalent to INCRBY + PEXPIRE … NX, which needs
// Redis 7; the script works on any version and on Redis Cluster (one key). Atomic, so a crash can't leave a counter
// without expiry (a rate-limit window that never closes).
const INCREMENT_SCRIPT = `
local v = redis.call('INCRBY', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) == -1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return v`;
const INCREMENT_SHA = createHash("sha1").update(INCREMENT_SCRIPT).digest("hex");

// GET, and SET … PX … only when there was nothing: one atomic step that also tells the caller what it lost to.
// (SET NX GET does the same on Redis 7 only; the script runs on any version and on a cluster: one key.)
const PUT_IF_ABSENT_SCRIPT = `
local v = redis.call('GET', KEYS[1])
if v then return v end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false`;
const PUT_IF_ABSENT_SHA = createHash("sha1").update(PUT_IF_ABSENT_SCRIPT).digest("hex");

/** `redis://user:pass@host:6379/0` → `redis://host:6379/0`, for messages. */
function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === "/" ? "" : u.pathname}`;
  } catch {
    return "(unparseable URL)";
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Connect `client` once, or throw. Retries stay off until the first success (a retry loop would hide a wrong URL
 * behind "still connecting"), and an outer timer covers a server that accepts TCP but never answers.
 */
async function connectOnce(client: Redis, url: string, established: { value: boolean }): Promise<void> {
  let lastError: unknown;
  const onError = (err: unknown) => {
    lastError = err;
  };
  client.on("error", onError);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("timed out")), CONNECT_TIMEOUT_MS + 500);
      }),
    ]);
    established.value = true;
  } catch (err) {
    client.disconnect();
    const cause = lastError ?? err;
    throw new Error(`Cannot connect to Redis at REDIS_URL (${describeUrl(url)}): ${errorMessage(cause)}`);
  } finally {
    clearTimeout(timer);
    client.off("error", onError);
  }
}

export async function createRedisKv(url: string, opts: { keyPrefix?: string } = {}): Promise<Kv> {
  try {
    new URL(url);
  } catch {
    // Do not echo the value: it may carry a password.
    throw new Error("REDIS_URL is not a valid URL (expected redis://[user:password@]host:port[/db])");
  }
  const prefix = opts.keyPrefix ?? "";
  const k = (key: string) => prefix + key;

  const established = { value: false };
  const options: RedisOptions = {
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    commandTimeout: COMMAND_TIMEOUT_MS,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    // Commands issued in the same tick (concurrent webhooks' nonce and CallUUID claims) leave in one write: the
    // answer path's profile had a third of its CPU in socket writes.
    enableAutoPipelining: true,
    // null = stop. Before the first connection that means "fail start-up"; after it, back off up to 2 s forever.
    retryStrategy: (times: number) => (established.value ? Math.min(times * 100, 2_000) : null),
  };
  const client = new Redis(url, options);
  // ioredis prints unhandled 'error' events to the console; individual commands already reject with the error.
  client.on("error", () => {});
  await connectOnce(client, url, established);

  // Subscriptions need their own connection (a subscribed connection can't run other commands). Opened on first
  // subscribe, so replicas that never subscribe hold one connection, not two.
  let subscriberReady: Promise<Redis> | undefined;
  const handlers = new Map<string, Set<(message: string) => void>>();
  let closed = false;

  function getSubscriber(): Promise<Redis> {
    subscriberReady ??= (async () => {
      const subEstablished = { value: false };
      const sub = client.duplicate({
        ...options,
        retryStrategy: (times: number) => (subEstablished.value ? Math.min(times * 100, 2_000) : null),
      });
      sub.on("error", () => {});
      sub.on("message", (channel: string, message: string) => {
        if (!channel.startsWith(prefix)) return;
        const name = channel.slice(prefix.length);
        const set = handlers.get(name);
        if (!set) return;
        for (const handler of [...set]) {
          try {
            handler(message);
          } catch (err) {
            reportListenerError(name, err);
          }
        }
      });
      try {
        await connectOnce(sub, url, subEstablished);
      } catch (err) {
        subscriberReady = undefined; // let a later subscribe try again
        throw err;
      }
      return sub;
    })();
    return subscriberReady;
  }

  function assertOpen(): void {
    if (closed) throw new Error("kv: closed");
  }

  /** EVALSHA, loading the script on the first NOSCRIPT (a restarted or flushed Redis forgets loaded scripts). */
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

    async set(key, value, ttlMs) {
      assertOpen();
      await client.set(k(key), value, "PX", checkTtl(ttlMs));
    },

    async delete(key) {
      assertOpen();
      await client.del(k(key));
    },

    async increment(key, by, ttlMs) {
      assertOpen();
      return Number(await evalScript(INCREMENT_SHA, INCREMENT_SCRIPT, key, checkIncrement(by), checkTtl(ttlMs)));
    },

    async publish(channel, message) {
      assertOpen();
      await client.publish(k(channel), message);
    },

    async subscribe(channel, onMessage) {
      assertOpen();
      const sub = await getSubscriber();
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
      try {
        await sub.subscribe(k(channel));
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
          if (!closed) await sub.unsubscribe(k(channel)).catch(() => {});
        }
      };
    },

    async ping() {
      assertOpen();
      await client.ping();
    },

    async close() {
      if (closed) return;
      closed = true;
      handlers.clear();
      const pendingSub = subscriberReady;
      await Promise.all([
        quit(client),
        pendingSub ? pendingSub.then(quit, () => undefined) : Promise.resolve(),
      ]);
    },
  };
  return Object.freeze(kv);
}

/** QUIT waits for replies to commands already sent; if the connection is already down, just drop it. */
async function quit(client: Redis): Promise<void> {
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}
