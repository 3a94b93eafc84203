/**
 * The job runner against the real database (embedded PGlite, or Postgres when DATABASE_URL is set: then the second
 * runner has a connection pool of its own, so the two really race). Every kind here is named for this run, so the
 * runners never touch another file's jobs, and time moves through an injected clock rather than sleeps.
 */
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { Knex } from "knex";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, usingRealServices, type TestServer } from "../support/harness.js";
import { createTestClock } from "../support/clock.js";
import { testDatabaseUrl } from "../support/env.js";
import { createDatabase } from "../../server/src/db/database.js";
import type { Deps } from "../../server/src/deps.js";
import { createJobRegistry, type JobKind, type OutboxTopic } from "../../server/src/jobs/kinds.js";
import { createJobRunner, type JobRunner, type RunnerOptions } from "../../server/src/jobs/runner.js";
import { outboxDispatchJob } from "../../server/src/jobs/outbox-dispatch.js";
import { sessionExpiryJob } from "../../server/src/jobs/sweeper.js";
import { enqueueJob, findJob, type JobRow } from "../../server/src/stores/jobs.js";
import { writeOutbox } from "../../server/src/stores/outbox.js";
import { createSession, people, tenantWithPool } from "../support/fixtures.js";

const run = randomUUID().slice(0, 8);
const kindName = (name: string) => `test.${run}.${name}`;
const EFFECTS = `job_effects_${run}`;

let server: TestServer;
/** The second runner's database: its own pool on Postgres; the one embedded connection otherwise. */
let otherDb: Knex;
const runners: JobRunner[] = [];

beforeAll(async () => {
  server = await startTestServer();
  otherDb = usingRealServices.postgres
    ? await createDatabase({ databaseUrl: testDatabaseUrl, dataDir: "", poolMax: 6 })
    : server.deps.db;
  await server.deps.db.raw(`CREATE TABLE ${EFFECTS} (job_id bigint NOT NULL, runner text NOT NULL, at timestamptz NOT NULL DEFAULT now())`);
});

afterAll(async () => {
  await Promise.allSettled(runners.map((r) => r.stop()));
  if (server) {
    await server.deps.db.raw(`DROP TABLE IF EXISTS ${EFFECTS}`);
    await server.deps.db("jobs").where("kind", "like", `test.${run}.%`).delete();
  }
  if (otherDb && otherDb !== server?.deps.db) await otherDb.destroy();
  await server?.stop();
});

/** A transactional kind whose effect is one row naming the job and the runner that ran it. */
function effectKind(name: string, runner: string, extra: Partial<JobKind> = {}): JobKind {
  return {
    kind: kindName(name),
    transactional: true,
    ...extra,
    async run(trx, job) {
      await trx(EFFECTS).insert({ job_id: job.id, runner });
      if (job.payload.failUntilAttempt && job.attempts < Number(job.payload.failUntilAttempt)) {
        throw new Error(`refused on attempt ${job.attempts} for +919812345678`);
      }
    },
  } as JobKind;
}

function runnerOn(db: Knex, kinds: JobKind[], topics: OutboxTopic[] = [], opts: RunnerOptions & { clock?: Deps["clock"] } = {}) {
  const deps: Deps = { ...server.deps, db, ...(opts.clock ? { clock: opts.clock } : {}) };
  const runner = createJobRunner(deps, createJobRegistry(kinds, topics), { pollIntervalMs: 20, random: () => 0.5, ...opts });
  runners.push(runner);
  return runner;
}

async function effectsOf(ids: number[]): Promise<Map<number, number>> {
  const rows = (await server.deps.db(EFFECTS).whereIn("job_id", ids).select("job_id").count({ n: "*" }).groupBy("job_id")) as Array<{
    job_id: number;
    n: number;
  }>;
  return new Map(rows.map((r) => [Number(r.job_id), Number(r.n)]));
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000) {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

const job = async (id: number) => (await findJob(server.deps.db, id))!;

describe("claiming", () => {
  it("two runners racing on the same database run every job exactly once", async () => {
    const ids: number[] = [];
    for (let i = 0; i < 40; i++) ids.push((await enqueueJob(server.deps.db, { kind: kindName("race") })).id);
    const a = runnerOn(server.deps.db, [effectKind("race", "a")], [], { concurrency: 3 });
    const b = runnerOn(otherDb, [effectKind("race", "b")], [], { concurrency: 3 });
    await Promise.all([a.start(), b.start()]);
    await until("every raced job to succeed", async () => {
      const done = await server.deps.db("jobs").whereIn("id", ids).where({ status: "succeeded" }).count({ n: "*" }).first();
      return Number(done!.n) === ids.length;
    });
    await Promise.all([a.stop(), b.stop()]);

    const effects = await effectsOf(ids);
    expect(ids.filter((id) => effects.get(id) !== 1)).toEqual([]);
    const rows = await server.deps.db("jobs").whereIn("id", ids);
    expect(rows.every((r: JobRow) => r.attempts === 1 && r.locked_by === null && r.finished_at !== null)).toBe(true);
  });

  it("jobs sharing a queue key run one at a time while other keys run beside them", async () => {
    let inFlight = new Map<string, number>();
    const most = new Map<string, number>();
    const slow: JobKind = {
      kind: kindName("keyed"),
      transactional: false,
      async run(j) {
        const key = String(j.queue_key);
        inFlight.set(key, (inFlight.get(key) ?? 0) + 1);
        most.set(key, Math.max(most.get(key) ?? 0, inFlight.get(key)!));
        await sleep(40);
        inFlight.set(key, inFlight.get(key)! - 1);
      },
    };
    const ids: number[] = [];
    for (let i = 0; i < 6; i++) ids.push((await enqueueJob(server.deps.db, { kind: slow.kind, queueKey: `${run}:endpoint-1` })).id);
    for (let i = 0; i < 3; i++) ids.push((await enqueueJob(server.deps.db, { kind: slow.kind, queueKey: `${run}:endpoint-2` })).id);
    inFlight = new Map();
    const a = runnerOn(server.deps.db, [slow], [], { concurrency: 4 });
    const b = runnerOn(otherDb, [slow], [], { concurrency: 4 });
    await Promise.all([a.start(), b.start()]);
    await until("every keyed job to succeed", async () => {
      const done = await server.deps.db("jobs").whereIn("id", ids).where({ status: "succeeded" }).count({ n: "*" }).first();
      return Number(done!.n) === ids.length;
    });
    await Promise.all([a.stop(), b.stop()]);
    expect(most.get(`${run}:endpoint-1`)).toBe(1);
    expect(most.get(`${run}:endpoint-2`)).toBe(1);
  });

  it("enqueueing twice with one dedupe key makes one job", async () => {
    const first = await enqueueJob(server.deps.db, { kind: kindName("once"), dedupeKey: `${run}:once` });
    const again = await enqueueJob(server.deps.db, { kind: kindName("once"), dedupeKey: `${run}:once` });
    expect(first.created).toBe(true);
    expect(again).toEqual({ id: first.id, created: false });
  });
});

describe("retries", () => {
  it("a failed attempt rolls its effects back and is retried after its backoff, not before", async () => {
    const clock = createTestClock();
    const kind = effectKind("retry", "r", { retryDelayMs: () => 60_000 });
    const runner = runnerOn(server.deps.db, [kind], [], { clock });
    const { id } = await enqueueJob(server.deps.db, { kind: kind.kind, payload: { failUntilAttempt: 3 }, runAt: clock.now() });

    expect(await runner.runDue()).toBe(1);
    const failed = await job(id);
    expect(failed).toMatchObject({ status: "failed", attempts: 1 });
    expect(failed.last_error).toContain("refused on attempt 1");
    expect(failed.last_error).not.toContain("9812345678");
    // Jitter pinned to its middle: the retry waits exactly the kind's delay.
    expect(failed.run_at.getTime() - clock.now().getTime()).toBeGreaterThan(59_000);
    expect((await effectsOf([id])).get(id)).toBeUndefined();

    expect(await runner.runDue()).toBe(0); // not due yet
    clock.shift(61_000);
    expect(await runner.runDue()).toBe(1);
    expect(await job(id)).toMatchObject({ status: "failed", attempts: 2 });
    clock.shift(61_000);
    expect(await runner.runDue()).toBe(1);
    expect(await job(id)).toMatchObject({ status: "succeeded", attempts: 3, last_error: null });
    expect((await effectsOf([id])).get(id)).toBe(1);
  });

  it("a job that keeps failing is dead after max_attempts, its last error kept for the operator", async () => {
    const clock = createTestClock();
    const kind = effectKind("doomed", "d", { retryDelayMs: () => 1_000 });
    const runner = runnerOn(server.deps.db, [kind], [], { clock });
    const { id } = await enqueueJob(server.deps.db, { kind: kind.kind, payload: { failUntilAttempt: 99 }, maxAttempts: 3, runAt: clock.now() });
    for (let i = 0; i < 3; i++) {
      expect(await runner.runDue()).toBe(1);
      clock.shift(2_000);
    }
    const dead = await job(id);
    expect(dead).toMatchObject({ status: "dead", attempts: 3 });
    expect(dead.finished_at).not.toBeNull();
    expect(dead.last_error).toMatch(/^Error: refused on attempt 3/);
    expect(await runner.runDue()).toBe(0);
    expect((await effectsOf([id])).get(id)).toBeUndefined();
  });
});

describe("leases", () => {
  /** What a runner that claimed the job and then died leaves behind: running, leased, one attempt spent. */
  const claimedByTheDead = (id: number, leaseUntil: Date, attempts = 1) =>
    server.deps.db("jobs").where({ id }).update({ status: "running", locked_by: "dead-runner", locked_until: leaseUntil, attempts });

  it("a job whose runner died is claimed again once its lease runs out, and runs once", async () => {
    const clock = createTestClock();
    const kind = effectKind("orphan", "heir");
    const heir = runnerOn(server.deps.db, [kind], [], { clock });
    const { id } = await enqueueJob(server.deps.db, { kind: kind.kind, runAt: clock.now() });
    await claimedByTheDead(id, new Date(clock.now().getTime() + 30_000));

    expect(await heir.runDue()).toBe(0); // the lease still holds
    clock.shift(31_000);
    expect(await heir.runDue()).toBe(1);
    expect(await job(id)).toMatchObject({ status: "succeeded", attempts: 2 });
    expect((await effectsOf([id])).get(id)).toBe(1);
  });

  it("a job whose runner died on its last attempt is dead, not run again", async () => {
    const clock = createTestClock();
    const kind = effectKind("last-orphan", "heir");
    const heir = runnerOn(server.deps.db, [kind], [], { clock });
    const { id } = await enqueueJob(server.deps.db, { kind: kind.kind, maxAttempts: 2, runAt: clock.now() });
    await claimedByTheDead(id, new Date(clock.now().getTime() - 1), 2);
    expect(await heir.runDue()).toBe(0);
    expect(await job(id)).toMatchObject({ status: "dead", attempts: 2 });
    expect((await job(id)).last_error).toContain("lease ran out");
  });

  it("stopping hands back a job still running at the end of the grace, without spending an attempt", async () => {
    const stuck: JobKind = { kind: kindName("stuck"), transactional: false, run: () => new Promise(() => undefined) };
    const runner = runnerOn(server.deps.db, [stuck], [], { stopGraceMs: 100 });
    const { id } = await enqueueJob(server.deps.db, { kind: stuck.kind });
    await runner.start();
    await until("the stuck job to be claimed", async () => (await job(id)).status === "running");
    await runner.stop();
    expect(await job(id)).toMatchObject({ status: "queued", attempts: 0, locked_by: null });
  });
});

describe("recurring jobs", () => {
  it("have exactly one row however many runners schedule them, and reschedule themselves", async () => {
    const clock = createTestClock();
    const every = 10_000;
    const kind = effectKind("tick", "t", { everyMs: () => every });
    const a = runnerOn(server.deps.db, [kind], [], { clock });
    const b = runnerOn(otherDb, [kind], [], { clock });
    await Promise.all([a.scheduleRecurring(), b.scheduleRecurring(), a.scheduleRecurring()]);
    const rows = await server.deps.db("jobs").where({ kind: kind.kind });
    expect(rows).toHaveLength(1);
    const id = Number(rows[0].id);

    // Both race for the due row: one of them runs it.
    const ran = await Promise.all([a.runDue(), b.runDue()]);
    expect(ran[0] + ran[1]).toBe(1);
    const after = await job(id);
    expect(after).toMatchObject({ status: "queued", attempts: 0 });
    // Due one interval after it ran (the test clock still moves with real time).
    expect(Math.abs(after.run_at.getTime() - (clock.now().getTime() + every))).toBeLessThan(2_000);
    expect(await a.runDue()).toBe(0);

    clock.shift(every);
    expect((await Promise.all([a.runDue(), b.runDue()])).reduce((x, y) => x + y)).toBe(1);
    expect((await effectsOf([id])).get(id)).toBe(2);
    expect(await server.deps.db("jobs").where({ kind: kind.kind })).toHaveLength(1);
  });

  it("session expiry runs as the sessions.expire job: due sessions are marked expired and released", async () => {
    const t = await tenantWithPool(server);
    const res = await createSession(server, t.apiKey, { participants: people(2).map((number) => ({ number })) });
    const { id } = (await res.json()) as { id: string };
    // Its expiry moved into the past (not into the future for everyone: other files share this database).
    await server.deps.db("sessions").where({ id }).update({ expires_at: new Date(Date.now() - 1_000) });

    const runner = runnerOn(server.deps.db, [sessionExpiryJob]);
    await runner.scheduleRecurring();
    // Whatever a previous run left, the row is due now.
    await server.deps.db("jobs").where({ dedupe_key: "recurring:sessions.expire" }).update({ run_at: new Date(0), status: "queued" });
    expect(await runner.runDue()).toBeGreaterThanOrEqual(1);
    expect(await server.deps.db("sessions").where({ id }).first()).toMatchObject({ status: "expired" });
    const active = await server.deps.db("participants").where({ session_id: id, active: true }).count({ n: "*" }).first();
    expect(Number(active!.n)).toBe(0);
    const row = await server.deps.db("jobs").where({ dedupe_key: "recurring:sessions.expire" }).first();
    expect(row).toMatchObject({ status: "queued", attempts: 0 });
  });
});

describe("outbox", () => {
  it("rows written with their change are dispatched into jobs exactly once by two racing runners; rolled-back ones never", async () => {
    const topic = kindName("something-happened");
    const effect = kindName("deliver");
    const topics: OutboxTopic[] = [{ topic, jobsFor: async (_trx, row) => [{ kind: effect, payload: { outboxId: row.id } }] }];
    const topicMap = new Map(topics.map((x) => [x.topic, x]));
    const kindsFor = (who: string) => [outboxDispatchJob(topicMap, kindName("dispatch")), effectKind("deliver", who)];
    const tenant = await server.createTenant("Outbox tenant");

    const written: number[] = [];
    for (let i = 0; i < 30; i++) {
      await server.deps.db.transaction(async (trx) => {
        written.push(await writeOutbox(trx, { tenantId: tenant.tenantId, topic, payload: { n: i } }));
      });
    }
    const rolledBack: number[] = [];
    await server.deps.db
      .transaction(async (trx) => {
        rolledBack.push(await writeOutbox(trx, { tenantId: tenant.tenantId, topic, payload: { n: -1 } }));
        throw new Error("the change failed");
      })
      .catch(() => undefined);

    const a = runnerOn(server.deps.db, kindsFor("a"), topics, { concurrency: 3 });
    const b = runnerOn(otherDb, kindsFor("b"), topics, { concurrency: 3 });
    await Promise.all([a.start(), b.start()]);
    await until("every outbox row's job to succeed", async () => {
      const done = await server.deps.db("jobs").where({ kind: effect, status: "succeeded" }).count({ n: "*" }).first();
      return Number(done!.n) >= written.length;
    });
    await Promise.all([a.stop(), b.stop()]);

    const rows = await server.deps.db("outbox").where({ tenant_id: tenant.tenantId }).orderBy("id");
    expect(rows.map((r: { id: number }) => Number(r.id))).toEqual(written);
    expect(rows.every((r: { dispatched_at: Date | null; dispatched_jobs: number }) => r.dispatched_at && r.dispatched_jobs === 1)).toBe(true);
    const jobs = await server.deps.db("jobs").where({ kind: effect });
    expect(jobs).toHaveLength(written.length);
    expect(jobs.every((j: JobRow) => j.tenant_id === tenant.tenantId)).toBe(true);
    expect(jobs.map((j: JobRow) => Number(j.payload.outboxId)).sort((x: number, y: number) => x - y)).toEqual(written);
    const effects = await effectsOf(jobs.map((j: JobRow) => Number(j.id)));
    expect([...effects.values()].every((n) => n === 1) && effects.size === written.length).toBe(true);
    expect(await server.deps.db("jobs").whereRaw("payload->>'outboxId' = ?", [String(rolledBack[0])]).where({ kind: effect })).toEqual([]);
  });
});
