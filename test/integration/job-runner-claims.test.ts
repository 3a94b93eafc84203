/**
 * The job runner's claims, leases, timeouts and shutdown against the real database (see job-runner-harness.ts).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { usingRealServices } from "../support/harness.js";
import { createTestClock } from "../support/clock.js";
import type { JobKind } from "../../server/src/jobs/kinds.js";
import { enqueueJob, type JobRow } from "../../server/src/stores/jobs.js";
import { until, useJobRunnerHarness } from "./job-runner-harness.js";

const h = useJobRunnerHarness();
const db = () => h.server.deps.db;

describe("claiming", () => {
  it("two runners racing on the same database run every job exactly once", async () => {
    const ids: number[] = [];
    for (let i = 0; i < 40; i++) ids.push((await enqueueJob(db(), { kind: h.kindName("race") })).id);
    const a = h.runnerOn(db(), [h.effectKind("race", "a")], [], { concurrency: 3 });
    const b = h.runnerOn(h.otherDb, [h.effectKind("race", "b")], [], { concurrency: 3 });
    await Promise.all([a.start(), b.start()]);
    await until("every raced job to succeed", async () => (await h.succeeded(ids)) === ids.length);
    await Promise.all([a.stop(), b.stop()]);

    const effects = await h.effectsOf(ids);
    expect(ids.filter((id) => effects.get(id) !== 1)).toEqual([]);
    const rows = await db()("jobs").whereIn("id", ids);
    expect(rows.every((r: JobRow) => r.attempts === 1 && r.locked_by === null && r.finished_at !== null)).toBe(true);
  });

  it("jobs sharing a queue key run one at a time while other keys run beside them", async () => {
    const inFlight = new Map<string, number>();
    const most = new Map<string, number>();
    const slow: JobKind = {
      kind: h.kindName("keyed"),
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
    for (let i = 0; i < 6; i++) ids.push((await enqueueJob(db(), { kind: slow.kind, queueKey: `${h.kindName("endpoint-1")}` })).id);
    for (let i = 0; i < 3; i++) ids.push((await enqueueJob(db(), { kind: slow.kind, queueKey: `${h.kindName("endpoint-2")}` })).id);
    const a = h.runnerOn(db(), [slow], [], { concurrency: 4 });
    const b = h.runnerOn(h.otherDb, [slow], [], { concurrency: 4 });
    await Promise.all([a.start(), b.start()]);
    await until("every keyed job to succeed", async () => (await h.succeeded(ids)) === ids.length);
    await Promise.all([a.stop(), b.stop()]);
    expect(most.get(h.kindName("endpoint-1"))).toBe(1);
    expect(most.get(h.kindName("endpoint-2"))).toBe(1);
  });

  it("a runner that yields to foreground load runs only the slots the load leaves, and all of its jobs once it lifts", async () => {
    let inFlight = 0;
    let most = 0;
    const kind: JobKind = {
      kind: h.kindName("yielding"),
      transactional: false,
      async run() {
        inFlight += 1;
        most = Math.max(most, inFlight);
        await sleep(30);
        inFlight -= 1;
      },
    };
    const ids: number[] = [];
    for (let i = 0; i < 12; i++) ids.push((await enqueueJob(db(), { kind: kind.kind })).id);
    let slots = 1;
    const runner = h.runnerOn(db(), [kind], [], {
      concurrency: 6,
      yieldTo: { backgroundSlots: (max) => Math.min(max, slots), yielding: () => slots < 6 },
    });
    await runner.start();
    await until("some yielded jobs to run", async () => (await h.succeeded(ids)) >= 3);
    expect(most).toBe(1);
    slots = 6;
    await until("every yielded job to succeed", async () => (await h.succeeded(ids)) === ids.length);
    await runner.stop();
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(6);
  });

  it("a burst under one queue key does not hold back another key's job queued behind it", async () => {
    const kind: JobKind = { kind: h.kindName("burst"), transactional: false, run: () => sleep(100) };
    const longAgo = new Date(Date.now() - 60_000);
    const burst: number[] = [];
    for (let i = 0; i < 40; i++) burst.push((await enqueueJob(db(), { kind: kind.kind, queueKey: h.kindName("busy"), runAt: longAgo })).id);
    const other = (await enqueueJob(db(), { kind: kind.kind, queueKey: h.kindName("quiet") })).id;
    const runner = h.runnerOn(db(), [kind], [], { concurrency: 2 });
    await runner.start();
    await until("the other key's job to succeed", async () => (await h.succeeded([other])) === 1, 10_000);
    // The burst runs one at a time (100 ms each): most of it is still waiting.
    expect(await h.succeeded(burst)).toBeLessThan(burst.length / 2);
    await runner.stop();
  });

  it("enqueueing twice with one dedupe key makes one job", async () => {
    const first = await enqueueJob(db(), { kind: h.kindName("once"), dedupeKey: h.kindName("once") });
    const again = await enqueueJob(db(), { kind: h.kindName("once"), dedupeKey: h.kindName("once") });
    expect(first.created).toBe(true);
    expect(again).toEqual({ id: first.id, created: false });
  });
});

describe("attempts", () => {
  it("a job enqueued without a bound is dead after its kind's maxAttempts", async () => {
    const clock = createTestClock();
    const kind = h.effectKind("kind-bound", "k", { retryDelayMs: () => 1_000, maxAttempts: 2 });
    const runner = h.runnerOn(db(), [kind], [], { clock });
    const { id } = await enqueueJob(db(), { kind: kind.kind, payload: { failUntilAttempt: 99 }, runAt: clock.now() });
    expect((await h.job(id)).max_attempts).toBeNull();
    expect(await runner.runDue()).toBe(1);
    expect(await h.job(id)).toMatchObject({ status: "failed", attempts: 1 });
    clock.shift(2_000);
    expect(await runner.runDue()).toBe(1);
    expect(await h.job(id)).toMatchObject({ status: "dead", attempts: 2 });
  });

  it("a job's own bound wins over its kind's", async () => {
    const clock = createTestClock();
    const kind = h.effectKind("own-bound", "o", { retryDelayMs: () => 1_000, maxAttempts: 5 });
    const runner = h.runnerOn(db(), [kind], [], { clock });
    const { id } = await enqueueJob(db(), { kind: kind.kind, payload: { failUntilAttempt: 99 }, maxAttempts: 1, runAt: clock.now() });
    expect(await runner.runDue()).toBe(1);
    expect(await h.job(id)).toMatchObject({ status: "dead", attempts: 1 });
  });
});

describe("leases", () => {
  /** What a runner that claimed the job and then died leaves behind: running, leased, one attempt spent. */
  const claimedByTheDead = (id: number, leaseUntil: Date, attempts = 1) =>
    db()("jobs").where({ id }).update({ status: "running", locked_by: "dead-runner", locked_until: leaseUntil, attempts });

  it("a job whose runner died is claimed again once its lease runs out, and runs once", async () => {
    const clock = createTestClock();
    const kind = h.effectKind("orphan", "heir");
    const heir = h.runnerOn(db(), [kind], [], { clock });
    const { id } = await enqueueJob(db(), { kind: kind.kind, runAt: clock.now() });
    await claimedByTheDead(id, new Date(clock.now().getTime() + 30_000));

    expect(await heir.runDue()).toBe(0); // the lease still holds
    clock.shift(31_000);
    expect(await heir.runDue()).toBe(1);
    expect(await h.job(id)).toMatchObject({ status: "succeeded", attempts: 2 });
    expect((await h.effectsOf([id])).get(id)).toBe(1);
  });

  it("a job whose runner died on its last attempt is dead, not run again", async () => {
    const clock = createTestClock();
    const kind = h.effectKind("last-orphan", "heir");
    const heir = h.runnerOn(db(), [kind], [], { clock });
    const { id } = await enqueueJob(db(), { kind: kind.kind, maxAttempts: 2, runAt: clock.now() });
    await claimedByTheDead(id, new Date(clock.now().getTime() - 1), 2);
    expect(await heir.runDue()).toBe(0);
    expect(await h.job(id)).toMatchObject({ status: "dead", attempts: 2 });
    expect((await h.job(id)).last_error).toContain("lease ran out");
  });

  it("an external job's lease is renewed through the stop grace, which hands it back at its end without spending an attempt", async () => {
    const stuck: JobKind = { kind: h.kindName("stuck"), transactional: false, run: () => new Promise(() => undefined) };
    const runner = h.runnerOn(db(), [stuck], [], { stopGraceMs: 1_500, externalLeaseMs: 600 });
    const { id } = await enqueueJob(db(), { kind: stuck.kind });
    await runner.start();
    await until("the stuck job to be claimed", async () => (await h.job(id)).status === "running");
    const stopped = runner.stop();
    await sleep(1_000); // past the first lease, inside the grace
    const leased = await h.job(id);
    expect(leased.status).toBe("running");
    expect(leased.locked_until!.getTime()).toBeGreaterThan(Date.now());
    await stopped;
    expect(await h.job(id)).toMatchObject({ status: "queued", attempts: 0, locked_by: null });
  });
});

describe("timeouts", () => {
  it("a transactional handler past its timeout is abandoned, rolled back and retried", async () => {
    const kind: JobKind = {
      kind: h.kindName("hangs-once"),
      transactional: true,
      timeoutMs: 300,
      retryDelayMs: () => 0,
      async run(trx, job) {
        await trx.raw("SELECT 1");
        if (job.attempts === 1) await new Promise(() => undefined);
      },
    };
    const runner = h.runnerOn(db(), [kind]);
    const { id } = await enqueueJob(db(), { kind: kind.kind });
    await runner.start();
    await until("the retry to succeed", async () => (await h.succeeded([id])) === 1, 10_000);
    await runner.stop();
    expect(await h.job(id)).toMatchObject({ status: "succeeded", attempts: 2 });
  });

  // Embedded PGlite enforces no statement_timeout and has no second connection to cancel from.
  it.skipIf(!usingRealServices.postgres)("a statement still running at the job's timeout is cancelled: the row is retried at once", async () => {
    const kind: JobKind = {
      kind: h.kindName("long-statement"),
      transactional: true,
      timeoutMs: 800,
      retryDelayMs: () => 0,
      async run(trx, job) {
        if (job.attempts === 1) await trx.raw("SELECT pg_sleep(20)");
      },
    };
    const runner = h.runnerOn(db(), [kind]);
    const { id } = await enqueueJob(db(), { kind: kind.kind });
    const started = Date.now();
    await runner.start();
    await until("the retry to succeed", async () => (await h.succeeded([id])) === 1, 15_000);
    expect(Date.now() - started).toBeLessThan(5_000);
    await runner.stop();
    expect(await h.job(id)).toMatchObject({ status: "succeeded", attempts: 2 });
    expect(await sleepingBackends("pg_sleep(20)")).toBe(0);
  });

  it.skipIf(!usingRealServices.postgres)("stop() ends in bounded time with a handler stuck in a statement, and hands its job back", async () => {
    const kind: JobKind = {
      kind: h.kindName("stuck-statement"),
      transactional: true,
      timeoutMs: 60_000,
      run: async (trx) => void (await trx.raw("SELECT pg_sleep(25)")),
    };
    const runner = h.runnerOn(db(), [kind], [], { stopGraceMs: 200 });
    const { id } = await enqueueJob(db(), { kind: kind.kind });
    await runner.start();
    await until("the statement to be running", async () => (await sleepingBackends("pg_sleep(25)")) === 1);
    const started = Date.now();
    await runner.stop();
    expect(Date.now() - started).toBeLessThan(runner.stopBoundMs);
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(await h.job(id)).toMatchObject({ status: "queued", attempts: 0, locked_by: null });
    expect(await sleepingBackends("pg_sleep(25)")).toBe(0);
  });
});

/** Backends running a statement containing `fragment` (other than this query). */
async function sleepingBackends(fragment: string): Promise<number> {
  const result = await db().raw<{ rows: Array<{ n: number }> }>(
    "SELECT count(*) AS n FROM pg_stat_activity WHERE state = 'active' AND query LIKE ? AND pid <> pg_backend_pid()",
    [`%${fragment}%`],
  );
  return Number(result.rows[0]!.n);
}
