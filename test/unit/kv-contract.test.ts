/**
 * One contract, every Kv adapter. The memory adapter always runs; the Redis adapter runs on one server when
 * TEST_REDIS_URL or REDIS_URL is set, and on a Redis Cluster when REDIS_CLUSTER_TEST_NODES (host:port,host:port) is
 * set. Whatever is named must be reachable: an unreachable Redis fails these tests instead of skipping them, and in
 * CI (CI set) a missing variable fails too, so CI can't go green without having exercised both.
 */
import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseRedisUrl } from "../../server/src/config.js";
import type { Kv } from "../../server/src/kv/kv.js";
import { createMemoryKv } from "../../server/src/kv/memory.js";
import { createRedisKv } from "../../server/src/kv/redis.js";

const redisUrl = process.env.TEST_REDIS_URL || process.env.REDIS_URL || undefined;
const clusterNodes = process.env.REDIS_CLUSTER_TEST_NODES || undefined;
const inCi = Boolean(process.env.CI); // as the fault suite reads it (test/support/owned/tools.ts)
// Unique per run, so parallel runs (and leftovers of earlier ones) never meet. Every test key has a short TTL too.
const runPrefix = `maskline-test:${randomUUID()}:`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
// Short enough to wait out, long enough that a loaded CI machine still reads a key before it expires.
const SHORT_TTL_MS = 300;
const PAST_SHORT_TTL_MS = SHORT_TTL_MS + 150;

/** Collects messages; `next()` resolves with the next one or rejects after a timeout. */
function inbox() {
  const messages: string[] = [];
  const waiters: Array<(m: string) => void> = [];
  const onMessage = (m: string) => {
    const waiter = waiters.shift();
    if (waiter) waiter(m);
    else messages.push(m);
  };
  const next = (timeoutMs = 2_000) =>
    new Promise<string>((resolve, reject) => {
      const queued = messages.shift();
      if (queued !== undefined) return resolve(queued);
      const timer = setTimeout(() => reject(new Error("no message within timeout")), timeoutMs);
      waiters.push((m) => {
        clearTimeout(timer);
        resolve(m);
      });
    });
  return { onMessage, next, messages };
}

interface ContractOptions {
  /** Instances from the factory share state (Redis: separate connections to one server = separate replicas). */
  sharedAcrossInstances: boolean;
}

function kvContract(name: string, factory: () => Promise<Kv>, options: ContractOptions) {
  describe(`Kv contract: ${name}`, () => {
    let a: Kv;
    let b: Kv; // a second instance: another replica when shared, an unrelated process-local store otherwise
    const opened: Kv[] = [];
    let n = 0;
    const key = (label: string) => `${label}:${++n}`;

    async function open(): Promise<Kv> {
      const kv = await factory();
      opened.push(kv);
      return kv;
    }

    beforeAll(async () => {
      a = await open();
      b = await open();
    });

    afterAll(async () => {
      await Promise.all(opened.map((kv) => kv.close()));
    });

    describe("get", () => {
      it("returns null for a missing key and the stored value otherwise", async () => {
        const k = key("basic");
        expect(await a.get(k)).toBeNull();
        expect(await a.putIfAbsent(k, "v1", 10_000)).toBeNull();
        expect(await a.get(k)).toBe("v1");
      });

      it("stores arbitrary strings unchanged", async () => {
        const k = key("strings");
        const value = `{"json":true} नमस्ते 👋 \n\t ${"x".repeat(5000)}`;
        await a.putIfAbsent(k, value, 10_000);
        expect(await a.get(k)).toBe(value);
        const empty = key("empty");
        await a.putIfAbsent(empty, "", 10_000);
        expect(await a.get(empty)).toBe("");
        expect(await a.putIfAbsent(empty, "not empty", 10_000)).toBe(""); // an empty value is still a value
      });

      it("expires keys after their TTL", async () => {
        const k = key("ttl");
        await a.putIfAbsent(k, "soon gone", SHORT_TTL_MS);
        expect(await a.get(k)).toBe("soon gone");
        await sleep(PAST_SHORT_TTL_MS);
        expect(await a.get(k)).toBeNull();
      });

      it("rejects non-positive or non-finite TTLs: every key must expire", async () => {
        for (const ttl of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
          await expect(a.putIfAbsent(key("bad-ttl"), "v", ttl)).rejects.toThrow(RangeError);
          await expect(a.increment(key("bad-ttl"), 1, ttl)).rejects.toThrow(RangeError);
        }
      });
    });

    describe("putIfAbsent", () => {
      it("stores only when absent and tells a loser the value it lost to", async () => {
        const k = key("nx");
        expect(await a.putIfAbsent(k, "first", 10_000)).toBeNull();
        expect(await a.putIfAbsent(k, "second", 10_000)).toBe("first");
        expect(await a.get(k)).toBe("first");
      });

      it("treats an expired key as absent", async () => {
        const k = key("nx-ttl");
        expect(await a.putIfAbsent(k, "first", SHORT_TTL_MS)).toBeNull();
        expect(await a.putIfAbsent(k, "again", SHORT_TTL_MS)).toBe("first");
        await sleep(PAST_SHORT_TTL_MS);
        expect(await a.putIfAbsent(k, "after expiry", 10_000)).toBeNull();
        expect(await a.get(k)).toBe("after expiry");
      });

      it("lets exactly one of 100 concurrent callers win, and every loser sees the winner (replay protection)", async () => {
        const k = key("nx-race");
        const callers = options.sharedAcrossInstances ? [a, b] : [a];
        const results = await Promise.all(
          Array.from({ length: 100 }, (_, i) => callers[i % callers.length]!.putIfAbsent(k, `caller-${i}`, 10_000)),
        );
        expect(results.filter((r) => r === null)).toHaveLength(1);
        const winner = results.indexOf(null);
        expect(await a.get(k)).toBe(`caller-${winner}`);
        expect(results.filter((r) => r !== null).every((r) => r === `caller-${winner}`)).toBe(true);
      });
    });

    describe("increment", () => {
      it("creates the key at `by` and adds atomically afterwards, negative steps included", async () => {
        const k = key("incr");
        expect(await a.increment(k, 1, 10_000)).toBe(1);
        expect(await a.increment(k, 5, 10_000)).toBe(6);
        expect(await a.increment(k, -2, 10_000)).toBe(4);
        expect(await a.get(k)).toBe("4");
      });

      it("loses no update under 100 concurrent increments", async () => {
        const k = key("incr-race");
        const callers = options.sharedAcrossInstances ? [a, b] : [a];
        const results = await Promise.all(
          Array.from({ length: 100 }, (_, i) => callers[i % callers.length]!.increment(k, 1, 10_000)),
        );
        expect([...results].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
        expect(await a.get(k)).toBe("100");
      });

      it("sets the TTL when the key is created and does not extend it on later increments (fixed window)", async () => {
        const k = key("incr-ttl");
        expect(await a.increment(k, 1, SHORT_TTL_MS)).toBe(1);
        await sleep(SHORT_TTL_MS / 4);
        expect(await a.increment(k, 1, 10_000)).toBe(2);
        await sleep(PAST_SHORT_TTL_MS);
        expect(await a.get(k)).toBeNull();
        expect(await a.increment(k, 1, 10_000)).toBe(1); // a new window
      });

      it("rejects a non-integer step and a non-integer stored value", async () => {
        const k = key("incr-bad");
        await expect(a.increment(k, 1.5, 10_000)).rejects.toThrow(RangeError);
        await a.putIfAbsent(k, "not a number", 10_000);
        await expect(a.increment(k, 1, 10_000)).rejects.toThrow();
        expect(await a.get(k)).toBe("not a number");
      });
    });

    describe("publish / subscribe", () => {
      const cleanups: Array<() => Promise<void>> = [];
      afterEach(async () => {
        await Promise.all(cleanups.splice(0).map((f) => f()));
      });

      it("delivers messages to a subscriber, in order, only for its channel", async () => {
        const ch = key("ch");
        const box = inbox();
        cleanups.push(await a.subscribe(ch, box.onMessage));
        const other = inbox();
        cleanups.push(await a.subscribe(key("other-ch"), other.onMessage));
        for (const m of ["one", "two", "three"]) await a.publish(ch, m);
        expect([await box.next(), await box.next(), await box.next()]).toEqual(["one", "two", "three"]);
        await sleep(50);
        expect(other.messages).toEqual([]);
      });

      it("delivers to every subscriber of a channel, and a throwing one does not stop the others", async () => {
        const ch = key("fanout");
        const first = inbox();
        const second = inbox();
        const warnings: string[] = [];
        const onWarning = (w: Error) => warnings.push(w.message);
        process.on("warning", onWarning);
        try {
          cleanups.push(await a.subscribe(ch, () => {
            throw new Error("listener bug");
          }));
          cleanups.push(await a.subscribe(ch, first.onMessage));
          cleanups.push(await a.subscribe(ch, second.onMessage));
          await a.publish(ch, "hello");
          expect(await first.next()).toBe("hello");
          expect(await second.next()).toBe("hello");
          await sleep(20);
          expect(warnings.some((w) => w.includes("listener bug"))).toBe(true);
        } finally {
          process.off("warning", onWarning);
        }
      });

      it("stops delivering after unsubscribe, leaving other subscribers of the channel in place", async () => {
        const ch = key("unsub");
        const leaving = inbox();
        const staying = inbox();
        const unsubscribe = await a.subscribe(ch, leaving.onMessage);
        cleanups.push(await a.subscribe(ch, staying.onMessage));
        await a.publish(ch, "before");
        expect(await leaving.next()).toBe("before");
        expect(await staying.next()).toBe("before");

        await unsubscribe();
        await unsubscribe(); // idempotent
        await a.publish(ch, "after");
        expect(await staying.next()).toBe("after");
        await sleep(50);
        expect(leaving.messages).toEqual([]);
      });

      it("can resubscribe to a channel after everyone unsubscribed", async () => {
        const ch = key("resub");
        const first = inbox();
        await (await a.subscribe(ch, first.onMessage))();
        const second = inbox();
        cleanups.push(await a.subscribe(ch, second.onMessage));
        await a.publish(ch, "again");
        expect(await second.next()).toBe("again");
        await sleep(30);
        expect(first.messages).toEqual([]);
      });

      it("publishing to a channel nobody listens to is fine", async () => {
        await a.publish(key("nobody"), "into the void");
      });
    });

    if (options.sharedAcrossInstances) {
      describe("across instances (replicas)", () => {
        it("sees another instance's writes", async () => {
          const k = key("shared");
          await a.putIfAbsent(k, "from a", 10_000);
          expect(await b.get(k)).toBe("from a");
          expect(await b.putIfAbsent(k, "from b", 10_000)).toBe("from a");
          expect(await b.increment(key("shared-incr"), 2, 10_000)).toBe(2);
        });

        it("delivers a message published on one instance to subscribers on another", async () => {
          const ch = key("cross");
          const onA = inbox();
          const onB = inbox();
          const unsubA = await a.subscribe(ch, onA.onMessage);
          const unsubB = await b.subscribe(ch, onB.onMessage);
          await a.publish(ch, "session closed: ses_1");
          expect(await onB.next()).toBe("session closed: ses_1");
          expect(await onA.next()).toBe("session closed: ses_1");
          await unsubB();
          await a.publish(ch, "second");
          expect(await onA.next()).toBe("second");
          await sleep(50);
          expect(onB.messages).toEqual([]);
          await unsubA();
        });
      });
    } else {
      it("keeps separate instances separate (process-local by design)", async () => {
        const k = key("isolated");
        await a.putIfAbsent(k, "only in a", 10_000);
        expect(await b.get(k)).toBeNull();
        const box = inbox();
        const unsub = await b.subscribe(k, box.onMessage);
        await a.publish(k, "not for b");
        await sleep(30);
        expect(box.messages).toEqual([]);
        await unsub();
      });
    }

    describe("close", () => {
      it("after close every operation rejects, close is idempotent, subscribers go quiet", async () => {
        const kv = await open();
        const peer = options.sharedAcrossInstances ? b : kv;
        await expect(kv.get(key("open"))).resolves.toBeNull();
        const ch = key("closing");
        const box = inbox();
        await kv.subscribe(ch, box.onMessage);

        await kv.close();
        await kv.close();
        await expect(kv.get(key("closed"))).rejects.toThrow();
        await expect(kv.putIfAbsent(key("closed"), "v", 1_000)).rejects.toThrow();
        await expect(kv.increment(key("closed"), 1, 1_000)).rejects.toThrow();
        await expect(kv.publish(ch, "x")).rejects.toThrow();
        await expect(kv.subscribe(ch, () => {})).rejects.toThrow();

        if (peer !== kv) {
          await peer.publish(ch, "after close");
          await sleep(50);
          expect(box.messages).toEqual([]);
        }
      });
    });
  });
}

kvContract("memory", async () => createMemoryKv(), { sharedAcrossInstances: false });

function requiredInCi(variable: string, what: string) {
  if (inCi) {
    it(`runs against ${what} in CI (${variable} must be set)`, () => {
      expect.fail(`${variable} is not set: CI must run the kv contract against ${what} (see .ci/run)`);
    });
  }
}

/** Both Redis shapes the server accepts, each named by what the tests were given. */
const redisTargets = [
  ...(redisUrl ? [{ name: "redis", target: parseRedisUrl(redisUrl) }] : []),
  ...(clusterNodes ? [{ name: "redis cluster", target: parseRedisUrl(`redis+cluster://${clusterNodes}`) }] : []),
];
if (!redisUrl) requiredInCi("REDIS_URL", "a Redis server");
if (!clusterNodes) requiredInCi("REDIS_CLUSTER_TEST_NODES", "a Redis Cluster");

for (const { name, target } of redisTargets) {
  kvContract(name, () => createRedisKv(target, { keyPrefix: runPrefix }), { sharedAcrossInstances: true });

  describe(`${name}: key prefixes`, () => {
    it("keeps keys and channels of different prefixes apart", async () => {
      const one = await createRedisKv(target, { keyPrefix: `${runPrefix}one:` });
      const two = await createRedisKv(target, { keyPrefix: `${runPrefix}two:` });
      try {
        await one.putIfAbsent("k", "in one", 10_000);
        expect(await two.get("k")).toBeNull();
        const box = inbox();
        await two.subscribe("ch", box.onMessage);
        await one.publish("ch", "for one only");
        await sleep(50);
        expect(box.messages).toEqual([]);
      } finally {
        await Promise.all([one.close(), two.close()]);
      }
    });
  });
}

const singleUrl = redisUrl && parseRedisUrl(redisUrl).kind === "single" ? redisUrl : undefined;
if (singleUrl && clusterNodes) {
  describe("createRedisKv given the wrong shape", () => {
    it("refuses a cluster node named as one server (it would answer MOVED for most keys)", async () => {
      const node = clusterNodes.split(",")[0]!.trim();
      await expect(createRedisKv(parseRedisUrl(`redis://${node}`))).rejects.toThrow(/REDIS_URL .*Redis Cluster node/);
    });

    it("refuses one server named as a cluster", async () => {
      await expect(createRedisKv(parseRedisUrl(`redis+cluster://${new URL(singleUrl).host}`))).rejects.toThrow(/REDIS_URL/);
    });
  });
}

describe("memory Kv with an injected clock", () => {
  it("expires by the clock it was given, without real waiting", async () => {
    let now = 1_000_000;
    const kv = createMemoryKv(() => now);
    try {
      await kv.putIfAbsent("k", "v", 1_000);
      expect(await kv.putIfAbsent("nx", "v", 500)).toBeNull();
      expect(await kv.increment("c", 1, 2_000)).toBe(1);
      now += 999;
      expect(await kv.get("k")).toBe("v");
      now += 1;
      expect(await kv.get("k")).toBeNull();
      expect(await kv.putIfAbsent("nx", "v2", 500)).toBeNull();
      expect(await kv.increment("c", 1, 2_000)).toBe(2);
      now += 1_000;
      expect(await kv.increment("c", 1, 2_000)).toBe(1);
    } finally {
      await kv.close();
    }
  });
});

describe("createRedisKv start-up", () => {
  it.each([
    ["one server", "redis://maskuser:s3cr3t-pass@127.0.0.1:1/0", "127.0.0.1:1"],
    ["a cluster", "redis+cluster://maskuser:s3cr3t-pass@127.0.0.1:1,127.0.0.1:2", "127.0.0.1:1,127.0.0.1:2"],
  ])("fails fast on %s, with an Error naming REDIS_URL and the hosts but not the credentials", async (_, url, hosts) => {
    const started = Date.now();
    const attempt = createRedisKv(parseRedisUrl(url));
    await expect(attempt).rejects.toThrow(/REDIS_URL/);
    const message = await attempt.catch((err: Error) => err.message);
    expect(message).toContain(hosts);
    expect(message).not.toMatch(/s3cr3t|maskuser/);
    expect(Date.now() - started).toBeLessThan(3_500);
  });

  it("refuses a key prefix with a brace, which would pin every key to one cluster slot", async () => {
    await expect(createRedisKv(parseRedisUrl("redis://127.0.0.1:1"), { keyPrefix: "app:{x}:" })).rejects.toThrow(RangeError);
  });
});
