/**
 * Dependency errors counted where they happen, without the callers knowing: a kv that counts its failures by
 * operation, and a listener on the database's failed queries that counts them by SQLSTATE class (or `connection`
 * when no server answered). An expected failure is counted too (a unique violation the allocator retries on is class
 * 23): the classes tell an outage (08, 57, connection) from the everyday.
 */
import type { Knex } from "knex";
import type { Kv } from "../kv/kv.js";
import type { Metrics } from "./metrics.js";

export function countingKv(kv: Kv, metrics: Pick<Metrics, "dependencyErrors">): Kv {
  const count = <T>(operation: string, work: Promise<T>): Promise<T> =>
    work.catch((err: unknown) => {
      metrics.dependencyErrors.inc({ dependency: "kv", kind: operation });
      throw err;
    });
  return Object.freeze({
    putIfAbsent: (key: string, value: string, ttlMs: number) => count("putIfAbsent", kv.putIfAbsent(key, value, ttlMs)),
    get: (key: string) => count("get", kv.get(key)),
    increment: (key: string, by: number, ttlMs: number) => count("increment", kv.increment(key, by, ttlMs)),
    publish: (channel: string, message: string) => count("publish", kv.publish(channel, message)),
    subscribe: (channel: string, onMessage: (message: string) => void) => count("subscribe", kv.subscribe(channel, onMessage)),
    close: () => kv.close(),
  });
}

export function countDatabaseErrors(db: Knex, metrics: Pick<Metrics, "dependencyErrors">): void {
  db.on("query-error", (err: { code?: unknown }) => {
    const code = typeof err?.code === "string" ? err.code : "";
    const kind = /^[0-9A-Z]{5}$/.test(code) ? `class_${code.slice(0, 2)}` : "connection";
    metrics.dependencyErrors.inc({ dependency: "database", kind });
  });
}
