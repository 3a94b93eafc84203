import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { Knex } from "knex";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/harness.js";
import { problemOf } from "../support/isolation.js";
import { AUTH_TOKEN, people, tenantWithPool, uniqueDids, type TenantFixture } from "../support/fixtures.js";
import { createApp } from "../../server/src/app.js";
import type { Deps } from "../../server/src/deps.js";
import { acquireIdempotencyKey } from "../../server/src/services/idempotency.js";
import { AppError } from "../../server/src/errors.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

interface Replica {
  request(path: string, init?: RequestInit & { apiKey?: string; json?: unknown }): Promise<Response>;
  stop(): Promise<void>;
}

/**
 * Another replica of the service on the same database, with some of its dependencies changed: how a test makes
 * one request stall, or die at a chosen point, while the main server answers the retry.
 */
async function replica(overrides: Partial<Deps>): Promise<Replica> {
  const http = createServer(createApp({ ...server.deps, ...overrides }).callback());
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const baseUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return {
    request(path, init = {}) {
      const headers = new Headers(init.headers);
      if (init.apiKey) headers.set("authorization", `Bearer ${init.apiKey}`);
      if (init.json !== undefined) headers.set("content-type", "application/json");
      return fetch(baseUrl + path, { ...init, headers, body: init.json !== undefined ? JSON.stringify(init.json) : init.body });
    },
    async stop() {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

/** A pool cache whose lookups wait for `gate`: the session create stalls before its transaction begins. */
function stalledPoolCache(gate: Promise<unknown>): Deps["poolCache"] {
  const real = server.deps.poolCache;
  return { ...real, get: async (key) => (await gate, real.get(key)) };
}

/** A database whose transactions commit and then "crash": the process dies before answering. */
function crashingAfterCommit(db: Knex): Knex {
  return new Proxy(db, {
    get(target, prop, receiver) {
      if (prop !== "transaction") return Reflect.get(target, prop, receiver);
      return async (...args: Parameters<Knex["transaction"]>) => {
        await (target.transaction as (...a: unknown[]) => Promise<unknown>)(...args);
        throw new Error("simulated crash after commit");
      };
    },
  });
}

const sessionBody = () => {
  const [a, b] = people(2);
  return { participants: [{ number: a!, label: "agent" }, { number: b!, label: "customer" }], reference: "order-1" };
};

const postSession = (t: TenantFixture, key: string, body: unknown, via: Pick<Replica, "request"> = server) =>
  via.request("/v1/sessions", { method: "POST", apiKey: t.apiKey, json: body, headers: { "idempotency-key": key } });

async function sessionIds(tenantId: string): Promise<string[]> {
  const rows = await server.deps.db("sessions").select("id").where({ tenant_id: tenantId });
  return rows.map((r: { id: string }) => r.id);
}

const claimRow = (scope: string, key: string) => server.deps.db("idempotency_keys").where({ scope, key });

async function waitForClaim(scope: string, key: string) {
  const deadline = Date.now() + 5_000;
  while (!(await claimRow(scope, key).first())) {
    if (Date.now() > deadline) throw new Error(`no idempotency claim for ${key} appeared`);
    await sleep(10);
  }
}

/**
 * Backdates a claim past the abandonment age (6 s without renewal), with a sub-millisecond part as Postgres keeps it: a JS Date
 * read back from this row is not equal to it, which is what the takeover once compared.
 */
async function ageClaim(scope: string, key: string) {
  const aged = `date_trunc('milliseconds', ??) - interval '120 seconds' + interval '123 microseconds'`;
  const updated = await claimRow(scope, key).update({
    created_at: server.deps.db.raw(aged, ["created_at"]),
    claimed_at: server.deps.db.raw(aged, ["claimed_at"]),
  });
  expect(updated).toBe(1);
}

/**
 * A create that claimed its key and then died (its replica hangs forever before the transaction, as a killed
 * process would, never releasing anything), with its claim now older than the abandonment age.
 */
async function leaveAbandonedClaim(t: TenantFixture, key: string, body: unknown) {
  const dead = await replica({ poolCache: stalledPoolCache(new Promise(() => undefined)) });
  const abort = new AbortController();
  const request = postSession(t, key, body, {
    request: (path, init) => dead.request(path, { ...init, signal: abort.signal }),
  }).catch(() => undefined);
  await waitForClaim(t.tenantId, key);
  abort.abort();
  await request;
  await dead.stop();
  await ageClaim(t.tenantId, key);
}

/** Counts every statement the server's database runs while `fn` does. */
async function countingStatements<T>(fn: () => Promise<T>): Promise<{ result: T; statements: number }> {
  let statements = 0;
  const onQuery = () => void statements++;
  server.deps.db.on("query", onQuery);
  try {
    return { result: await fn(), statements };
  } finally {
    server.deps.db.off("query", onQuery);
  }
}

describe("idempotency claims", () => {
  it("takes over a claim abandoned by a crashed create: the retry answers within seconds, creates one session, runs a bounded number of statements", async () => {
    const t = await tenantWithPool(server, { dids: 2 });
    const body = sessionBody();
    await leaveAbandonedClaim(t, "crashed-1", body);

    const started = Date.now();
    const { result: res, statements } = await countingStatements(() =>
      server.request("/v1/sessions", {
        method: "POST",
        apiKey: t.apiKey,
        json: body,
        headers: { "idempotency-key": "crashed-1" },
        signal: AbortSignal.timeout(5_000),
      }),
    );
    expect(res.status).toBe(201);
    expect(Date.now() - started).toBeLessThan(3_000);
    // Auth, the claim and its takeover, the allocation transaction with the stored result: a few dozen at most.
    expect(statements).toBeGreaterThan(5);
    expect(statements).toBeLessThan(40);
    const created = (await res.json()) as { id: string };
    expect(await sessionIds(t.tenantId)).toEqual([created.id]);

    const replay = await postSession(t, "crashed-1", body);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(((await replay.json()) as { id: string }).id).toBe(created.id);
  });

  it("racing retries of a crashed create take the claim over once: one session, every answer that session or 409 in progress", async () => {
    const t = await tenantWithPool(server, { dids: 2 });
    const body = sessionBody();
    await leaveAbandonedClaim(t, "crashed-race", body);

    const answers = await Promise.all(
      Array.from({ length: 10 }, async () => {
        const res = await postSession(t, "crashed-race", body);
        return { status: res.status, body: (await res.json()) as { id?: string; code?: string } };
      }),
    );
    const ids = await sessionIds(t.tenantId);
    expect(ids).toHaveLength(1);
    for (const answer of answers) {
      if (answer.status === 201) expect(answer.body.id).toBe(ids[0]);
      else expect(answer).toMatchObject({ status: 409, body: { code: "conflict" } });
    }
    expect(answers.some((a) => a.status === 201)).toBe(true);
  });

  it("makes an original still running roll back when a retry took its claim over: one session, the retry's", async () => {
    const t = await tenantWithPool(server, { dids: 4 });
    const body = sessionBody();
    let resume!: () => void;
    const slow = await replica({ poolCache: stalledPoolCache(new Promise<void>((r) => (resume = r))) });
    try {
      const original = postSession(t, "slow-1", body, slow);
      await waitForClaim(t.tenantId, "slow-1");
      await ageClaim(t.tenantId, "slow-1");

      const retry = await postSession(t, "slow-1", body);
      expect(retry.status).toBe(201);
      const retried = (await retry.json()) as { id: string };

      resume();
      const late = await original;
      expect(late.status).toBe(409);
      expect((await problemOf(late)).code).toBe("conflict");
      expect(await sessionIds(t.tenantId)).toEqual([retried.id]);
    } finally {
      resume();
      await slow.stop();
    }
  });

  it("stores a create's result in its own transaction: after a crash that follows the commit, the retry replays that session and another body is refused", async () => {
    const t = await tenantWithPool(server, { dids: 2 });
    const body = sessionBody();
    const crashing = await replica({ db: crashingAfterCommit(server.deps.db) });
    try {
      const crashed = await postSession(t, "after-commit-1", body, crashing);
      expect(crashed.status).toBe(500);
    } finally {
      await crashing.stop();
    }
    const [committed, ...others] = await sessionIds(t.tenantId);
    expect(others).toEqual([]);
    // The session's transaction carried its result: the key is complete, not merely claimed.
    expect(await claimRow(t.tenantId, "after-commit-1").first()).toMatchObject({ status_code: 201, completed_at: expect.any(Date) });

    const retry = await postSession(t, "after-commit-1", body);
    expect(retry.status).toBe(201);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    expect(((await retry.json()) as { id: string }).id).toBe(committed);

    const otherBody = await postSession(t, "after-commit-1", sessionBody());
    expect(otherBody.status).toBe(409);
    expect((await problemOf(otherBody)).code).toBe("idempotency_conflict");
    expect(await sessionIds(t.tenantId)).toEqual([committed]);
  });

  it("stores the result in the operation's transaction for every POST that takes an Idempotency-Key", async () => {
    const t = await tenantWithPool(server, { dids: 2 });
    const session = (await (await postSession(t, "to-close", sessionBody())).json()) as { id: string };
    const admin = { authorization: `Bearer ${server.adminToken}` };
    const tenantName = `Crash-safe ${Date.now()}`;
    const operations: Array<{ name: string; path: string; headers?: Record<string, string>; apiKey?: string; json: unknown; status: number }> = [
      { name: "admin.tenants.create", path: "/v1/admin/tenants", headers: admin, json: { name: tenantName }, status: 201 },
      { name: "admin.apiKeys.create", path: `/v1/admin/tenants/${t.tenantId}/api-keys`, headers: admin, json: { name: "ops" }, status: 201 },
      { name: "apiKeys.create", path: "/v1/api-keys", apiKey: t.apiKey, json: { name: "ci" }, status: 201 },
      { name: "apps.create", path: "/v1/apps", apiKey: t.apiKey, json: { name: "Second", vobizAuthId: "MA_TEST", vobizAuthToken: AUTH_TOKEN }, status: 201 },
      { name: "numbers.create", path: "/v1/numbers", apiKey: t.apiKey, json: { appId: t.app.id, numbers: uniqueDids(1), pool: "extra" }, status: 201 },
      { name: "sessions.create", path: "/v1/sessions", apiKey: t.apiKey, json: sessionBody(), status: 201 },
      { name: "sessions.close", path: `/v1/sessions/${session.id}/close`, apiKey: t.apiKey, json: undefined, status: 200 },
    ];
    const crashing = await replica({ db: crashingAfterCommit(server.deps.db) });
    try {
      for (const op of operations) {
        // Operator keys are scoped to "admin", not to a tenant: unique per run on a shared database.
        const key = `crash-${op.name}-${randomUUID()}`;
        const init = () => ({
          method: "POST",
          ...(op.apiKey ? { apiKey: op.apiKey } : {}),
          ...(op.json !== undefined ? { json: op.json } : {}),
          headers: { ...op.headers, "idempotency-key": key },
        });
        expect((await crashing.request(op.path, init())).status, `${op.name} on the crashing replica`).toBe(500);
        const retry = await server.request(op.path, init());
        expect(retry.status, op.name).toBe(op.status);
        expect(retry.headers.get("idempotent-replayed"), `${op.name} replays the committed result`).toBe("true");
      }
    } finally {
      await crashing.stop();
    }
    const tenantsNamed = await server.deps.db("tenants").where({ name: tenantName }).count({ n: "*" }).first();
    expect(tenantsNamed?.n).toBe(1);
  });

  it("a duplicate of a request still in progress sleeps between polls and gives up with 409 conflict when the wait budget is spent", async () => {
    const { tenantId } = await server.createTenant();
    const ref = { scope: tenantId, key: "held", operation: "sessions.create:{}" };
    const timing = { waitMs: 400, abandonedAfterMs: 60_000, firstPollMs: 25, maxPollMs: 100 };
    const held = await acquireIdempotencyKey(server.deps, ref, ["hash"], timing);
    expect("claim" in held).toBe(true);
    try {
      const started = Date.now();
      const { result, statements } = await countingStatements(() =>
        acquireIdempotencyKey(server.deps, ref, ["hash"], timing).then(
          () => null,
          (err: unknown) => err,
        ),
      );
      const waited = Date.now() - started;
      expect(result).toBeInstanceOf(AppError);
      expect(result).toMatchObject({ code: "conflict" });
      expect(waited).toBeGreaterThanOrEqual(400);
      expect(waited).toBeLessThan(2_000);
      // Polls of 25, 50, 100, 100, 100 ms, two statements each: a spin would run thousands.
      expect(statements).toBeGreaterThanOrEqual(8);
      expect(statements).toBeLessThanOrEqual(16);
    } finally {
      if ("claim" in held) await held.claim.release();
    }
  });
});
