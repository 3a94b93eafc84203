/**
 * The ioredis connections behind the Redis Kv: a `Redis` for one server, a `Cluster` for Redis Cluster, opened with
 * the same failure behaviour so the adapter (redis.ts) need not know which it has:
 *   - Start-up fails fast: one attempt bounded by ~2.5 s, no retries, an Error naming REDIS_URL and its hosts (never
 *     its credentials). A replica that silently ran without its shared state would accept replayed webhooks and
 *     ignore rate limits.
 *   - After start-up the client reconnects in the background (backing off up to 2 s), but a command sent while its
 *     server is away is refused at once instead of queued, and each has a 2 s timeout: callers get a quick
 *     rejection and decide (fail open on a rate limit, fail closed on a nonce) instead of hanging a webhook past
 *     the carrier's deadline. A single server: `enableOfflineQueue: false`. A cluster: the same on the cluster, and
 *     every node connection reconnects in the background too (clusterNodeRetryStrategy), so a node that went away
 *     stays a known connection that is not ready, for which the cluster refuses a command on the spot. ioredis
 *     queues on node connections whatever it is told, which only matters for a connection's very first connect (a
 *     node first seen after start-up): a command waiting there fails after one more connect attempt or its timeout.
 */
import { Cluster, Redis, ReplyError } from "ioredis";
import type { ClusterOptions, RedisOptions } from "ioredis";
import type { RedisTarget } from "../config.js";

const CONNECT_TIMEOUT_MS = 2_000;
export const COMMAND_TIMEOUT_MS = 2_000;

export type RedisClient = Redis | Cluster;

/** Subscriptions; every message arrives at the `onMessage` given to openRedisConnection. */
export interface RedisSubscriber {
  subscribe(channel: string): Promise<unknown>;
  unsubscribe(channel: string): Promise<unknown>;
}

export interface RedisConnection {
  /** Runs every command except the pub/sub ones. */
  readonly client: RedisClient;
  publish(channel: string, message: string): Promise<unknown>;
  /**
   * Subscriber-mode connections (which can't run other commands), opened on the first call so replicas that never
   * subscribe hold no extra connection. Rejects, and lets a later call try again, when it can't connect.
   */
  subscriber(): Promise<RedisSubscriber>;
  /** `redis://host:port/db` or `redis+cluster://host:port,host:port`, for messages. */
  readonly description: string;
  close(): Promise<void>;
}

const retryAfterStartup = (established: { value: boolean }) => (times: number) =>
  // null = stop. Before the first connection that means "fail start-up"; after it, back off up to 2 s forever.
  established.value ? Math.min(times * 100, 2_000) : null;

const COMMON_OPTIONS = {
  connectTimeout: CONNECT_TIMEOUT_MS,
  commandTimeout: COMMAND_TIMEOUT_MS,
  maxRetriesPerRequest: 1,
} satisfies RedisOptions;

export interface ConnectionOptions {
  onMessage: (channel: string, message: string) => void;
  /** Lua scripts to SCRIPT LOAD on every master at start-up, so the first commands need no NOSCRIPT round trip. */
  scripts: readonly string[];
}

export async function openRedisConnection(target: RedisTarget, opts: ConnectionOptions): Promise<RedisConnection> {
  return target.kind === "single" ? openSingle(target.url, opts) : openCluster(target, opts);
}

async function openSingle(url: string, { onMessage, scripts }: ConnectionOptions): Promise<RedisConnection> {
  const description = describeUrl(url);
  const established = { value: false };
  const options: RedisOptions = {
    ...COMMON_OPTIONS,
    lazyConnect: true,
    enableOfflineQueue: false,
    // Commands issued in the same tick (concurrent webhooks' nonce and CallUUID claims) leave in one write: the
    // answer path's profile had a third of its CPU in socket writes.
    enableAutoPipelining: true,
    retryStrategy: retryAfterStartup(established),
  };
  const client = new Redis(url, options);
  // ioredis prints unhandled 'error' events to the console; individual commands already reject with the error.
  client.on("error", () => {});
  await connectOnce(client, description, async () => {
    // A cluster node answers a plain client too, then refuses most keys with MOVED: say so at once.
    if (/^cluster_enabled:1\b/m.test(await client.info("cluster").catch(refusedAs("")))) {
      throw new Error("it is a Redis Cluster node; name the cluster as redis+cluster://host:port,host:port");
    }
    await loadScripts(client, scripts);
    established.value = true;
  });

  let subscriberReady: Promise<Redis> | undefined;
  return {
    client,
    description,
    publish: (channel, message) => client.publish(channel, message),
    subscriber() {
      subscriberReady ??= (async () => {
        const subEstablished = { value: false };
        const sub = client.duplicate({ ...options, retryStrategy: retryAfterStartup(subEstablished) });
        sub.on("error", () => {});
        sub.on("message", onMessage);
        try {
          await connectOnce(sub, description, async () => {
            subEstablished.value = true;
          });
        } catch (err) {
          subscriberReady = undefined; // let a later subscribe try again
          throw err;
        }
        return sub;
      })();
      return subscriberReady;
    },
    async close() {
      const pendingSub = subscriberReady;
      await Promise.all([quit(client), pendingSub ? pendingSub.then(quit, () => undefined) : Promise.resolve()]);
    },
  };
}

async function openCluster(
  target: Extract<RedisTarget, { kind: "cluster" }>,
  { onMessage, scripts }: ConnectionOptions,
): Promise<RedisConnection> {
  const description = `${target.tls ? "rediss" : "redis"}+cluster://${target.nodes.map(hostPort).join(",")}`;
  const established = { value: false };
  const options: ClusterOptions = {
    lazyConnect: true,
    enableOfflineQueue: false,
    enableAutoPipelining: true,
    // CLUSTER INFO must say cluster_state:ok before start-up succeeds, like a single server that must answer.
    enableReadyCheck: true,
    clusterRetryStrategy: retryAfterStartup(established),
    // Without it a node connection that drops is ended and forgotten; the next command for its slots is sent to
    // another node, redirected back and queued on a new connection until that connect fails or the command times
    // out (2 s), once per retry. With it, a down node stays in the pool while reconnecting: see the header.
    clusterNodeRetryStrategy: retryAfterStartup(established),
    // A command its node refuses (not connected) fails at once, as on a single server. ioredis would otherwise
    // retry it after a slot refresh, and a refresh that asks the missing node first waits slotsRefreshTimeout for
    // it: measured 1.4–2.5 s a command against a node that accepts TCP and never answers.
    retryDelayOnFailover: 0,
    // So the slots of a failed master still move to its promoted replica with no command retried to find it out.
    slotsRefreshInterval: 5_000,
    // A command is retried on MOVED/ASK (resharding) and, 100 ms apart, on CLUSTERDOWN/TRYAGAIN (failover): 4 tries
    // keep a command that can't succeed inside ~0.5 s.
    maxRedirections: 4,
    slotsRefreshTimeout: 1_000,
    // Sharded pub/sub (Redis 7): a channel lives in its slot like a key, so SPUBLISH goes to the one node that
    // owns it and its subscribers hear it from there, in publish order. Classic PUBLISH enters at any node and is
    // broadcast over the cluster bus: two notices from one replica could arrive swapped, and every node carries
    // every message. Costs one subscriber connection per master that owns a subscribed channel.
    shardedSubscribers: true,
    redisOptions: {
      ...COMMON_OPTIONS,
      ...(target.username ? { username: target.username } : {}),
      ...(target.password ? { password: target.password } : {}),
      ...(target.tls ? { tls: {} } : {}),
    },
  };
  const cluster = new Cluster(
    target.nodes.map((node) => ({ host: node.host, port: node.port })),
    options,
  );
  cluster.on("error", () => {});
  cluster.on("node error", () => {});
  cluster.on("smessage", onMessage);
  await connectOnce(cluster, description, async () => {
    // Node connections open lazily, and a command that finds its node still connecting is retried 100 ms later:
    // a burst of first requests would spend that on every node. Connect them all now (loading the scripts).
    await Promise.all(cluster.nodes("master").map((node) => loadScripts(node, scripts)));
    established.value = true;
  });
  // ioredis keeps one sharded subscriber per master and moves the subscriptions when slots move.
  const subscriber: RedisSubscriber = {
    subscribe: (channel) => cluster.ssubscribe(channel),
    unsubscribe: (channel) => cluster.sunsubscribe(channel),
  };
  return {
    client: cluster,
    description,
    publish: (channel, message) => cluster.spublish(channel, message),
    subscriber: async () => subscriber,
    close: () => quit(cluster),
  };
}

/**
 * Connect `client` once and run `onEstablished`, or throw. Retries stay off until the first success (a retry loop
 * would hide a wrong URL behind "still connecting"), and an outer timer covers a server that accepts TCP but never
 * answers.
 */
async function connectOnce(client: RedisClient, description: string, onEstablished: () => Promise<void>): Promise<void> {
  let lastError: unknown;
  const onError = (err: unknown) => {
    lastError = err;
  };
  client.on("error", onError);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect().then(onEstablished),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("timed out")), CONNECT_TIMEOUT_MS + 500);
      }),
    ]);
  } catch (err) {
    client.disconnect();
    const what = client instanceof Cluster ? "Redis Cluster" : "Redis";
    throw new Error(`Cannot connect to ${what} at REDIS_URL (${description}): ${errorMessage(lastError ?? err)}`);
  } finally {
    clearTimeout(timer);
    client.off("error", onError);
  }
}

/** `redis://user:pass@host:6379/0` → `redis://host:6379/0`, for messages. */
function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === "/" ? "" : u.pathname}`;
  } catch {
    return "(unparseable URL)";
  }
}

function hostPort(node: { host: string; port: number }): string {
  return `${node.host.includes(":") ? `[${node.host}]` : node.host}:${node.port}`;
}

export function errorMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // A cluster that refused every seed says so, and keeps the actual reason on the side.
  const cause = (err as { lastNodeError?: unknown }).lastNodeError;
  return cause instanceof Error ? `${err.message} (${cause.message})` : err.message;
}

async function loadScripts(client: Redis, scripts: readonly string[]): Promise<void> {
  await Promise.all(scripts.map((script) => client.script("LOAD", script).catch(refusedAs(undefined))));
}

/**
 * The start-up extras (INFO, SCRIPT LOAD) are conveniences: a Redis whose ACL refuses them still serves kv (EVALSHA
 * falls back to EVAL), so only a connection failure may fail start-up, not an error reply.
 */
function refusedAs<T>(fallback: T) {
  return (err: unknown): T => {
    if (err instanceof (ReplyError as new () => Error)) return fallback;
    throw err;
  };
}

/** QUIT waits for replies to commands already sent; if the connection is already down, just drop it. */
async function quit(client: RedisClient): Promise<void> {
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}
