/**
 * How the job runner's jobs end against the real database (see job-runner-harness.ts): retries and death, recurring
 * jobs, and the outbox's dispatch into jobs.
 */
import { describe, expect, it } from "vitest";
import { createTestClock } from "../support/clock.js";
import type { OutboxTopic } from "../../server/src/jobs/kinds.js";
import { outboxDispatchJob, OUTBOX_SET_ASIDE_AFTER } from "../../server/src/jobs/outbox-dispatch.js";
import { sessionExpiryJob } from "../../server/src/jobs/sweeper.js";
import { enqueueJob, type JobRow } from "../../server/src/stores/jobs.js";
import { writeOutbox } from "../../server/src/stores/outbox.js";
import { createSession, people, tenantWithPool } from "../support/fixtures.js";
import { capturedLogger, until, useJobRunnerHarness } from "./job-runner-harness.js";

const h = useJobRunnerHarness();
const db = () => h.server.deps.db;

describe("retries", () => {
  it("a failed attempt rolls its effects back and is retried after its backoff, not before", async () => {
    const clock = createTestClock();
    const kind = h.effectKind("retry", "r", { retryDelayMs: () => 60_000 });
    const runner = h.runnerOn(db(), [kind], [], { clock });
    const { id } = await enqueueJob(db(), { kind: kind.kind, payload: { failUntilAttempt: 3 }, runAt: clock.now() });

    expect(await runner.runDue()).toBe(1);
    const failed = await h.job(id);
    expect(failed).toMatchObject({ status: "failed", attempts: 1 });
    expect(failed.last_error).toContain("refused on attempt 1");
    expect(failed.last_error).not.toContain("9812345678");
    // Jitter pinned to its middle: the retry waits exactly the kind's delay.
    expect(failed.run_at.getTime() - clock.now().getTime()).toBeGreaterThan(59_000);
    expect((await h.effectsOf([id])).get(id)).toBeUndefined();

    expect(await runner.runDue()).toBe(0); // not due yet
    clock.shift(61_000);
    expect(await runner.runDue()).toBe(1);
    expect(await h.job(id)).toMatchObject({ status: "failed", attempts: 2 });
    clock.shift(61_000);
    expect(await runner.runDue()).toBe(1);
    expect(await h.job(id)).toMatchObject({ status: "succeeded", attempts: 3, last_error: null });
    expect((await h.effectsOf([id])).get(id)).toBe(1);
  });

  it("a job that keeps failing is dead after max_attempts, its last error kept for the operator", async () => {
    const clock = createTestClock();
    const kind = h.effectKind("doomed", "d", { retryDelayMs: () => 1_000 });
    const runner = h.runnerOn(db(), [kind], [], { clock });
    const { id } = await enqueueJob(db(), { kind: kind.kind, payload: { failUntilAttempt: 99 }, maxAttempts: 3, runAt: clock.now() });
    for (let i = 0; i < 3; i++) {
      expect(await runner.runDue()).toBe(1);
      clock.shift(2_000);
    }
    const dead = await h.job(id);
    expect(dead).toMatchObject({ status: "dead", attempts: 3 });
    expect(dead.finished_at).not.toBeNull();
    expect(dead.last_error).toMatch(/^Error: refused on attempt 3/);
    expect(await runner.runDue()).toBe(0);
    expect((await h.effectsOf([id])).get(id)).toBeUndefined();
  });
});

describe("recurring jobs", () => {
  it("have exactly one row however many runners schedule them, and reschedule themselves", async () => {
    const clock = createTestClock();
    const every = 10_000;
    const kind = h.effectKind("tick", "t", { everyMs: () => every });
    const a = h.runnerOn(db(), [kind], [], { clock });
    const b = h.runnerOn(h.otherDb, [kind], [], { clock });
    await Promise.all([a.scheduleRecurring(), b.scheduleRecurring(), a.scheduleRecurring()]);
    const rows = await db()("jobs").where({ kind: kind.kind });
    expect(rows).toHaveLength(1);
    const id = Number(rows[0].id);

    // Both race for the due row: one of them runs it.
    const ran = await Promise.all([a.runDue(), b.runDue()]);
    expect(ran[0] + ran[1]).toBe(1);
    const after = await h.job(id);
    expect(after).toMatchObject({ status: "queued", attempts: 0 });
    // Due one interval after it ran (the test clock still moves with real time).
    expect(Math.abs(after.run_at.getTime() - (clock.now().getTime() + every))).toBeLessThan(2_000);
    expect(await a.runDue()).toBe(0);

    clock.shift(every);
    expect((await Promise.all([a.runDue(), b.runDue()])).reduce((x, y) => x + y)).toBe(1);
    expect((await h.effectsOf([id])).get(id)).toBe(2);
    expect(await db()("jobs").where({ kind: kind.kind })).toHaveLength(1);
  });

  it("session expiry runs as the sessions.expire job: due sessions are marked expired and released", async () => {
    const t = await tenantWithPool(h.server);
    const res = await createSession(h.server, t.apiKey, { participants: people(2).map((number) => ({ number })) });
    const { id } = (await res.json()) as { id: string };
    // Its expiry moved into the past (not into the future for everyone: other files share this database).
    await db()("sessions").where({ id }).update({ expires_at: new Date(Date.now() - 1_000) });

    const runner = h.runnerOn(db(), [sessionExpiryJob]);
    await runner.scheduleRecurring();
    // Whatever a previous run left, the row is due now.
    await db()("jobs").where({ dedupe_key: "recurring:sessions.expire" }).update({ run_at: new Date(0), status: "queued" });
    expect(await runner.runDue()).toBeGreaterThanOrEqual(1);
    expect(await db()("sessions").where({ id }).first()).toMatchObject({ status: "expired" });
    const active = await db()("participants").where({ session_id: id, active: true }).count({ n: "*" }).first();
    expect(Number(active!.n)).toBe(0);
    const row = await db()("jobs").where({ dedupe_key: "recurring:sessions.expire" }).first();
    expect(row).toMatchObject({ status: "queued", attempts: 0 });
  });
});

describe("outbox", () => {
  it("rows written with their change are dispatched into jobs exactly once by two racing runners; rolled-back ones never", async () => {
    const topic = h.kindName("something-happened");
    const effect = h.kindName("deliver");
    const topics: OutboxTopic[] = [{ topic, jobsFor: async (_trx, row) => [{ kind: effect, payload: { outboxId: row.id } }] }];
    const topicMap = new Map(topics.map((x) => [x.topic, x]));
    const kindsFor = (who: string) => [outboxDispatchJob(topicMap, h.kindName("dispatch")), h.effectKind("deliver", who)];
    const tenant = await h.server.createTenant("Outbox tenant");

    const written: number[] = [];
    for (let i = 0; i < 30; i++) {
      await db().transaction(async (trx) => {
        written.push(await writeOutbox(trx, { tenantId: tenant.tenantId, topic, payload: { n: i } }));
      });
    }
    const rolledBack: number[] = [];
    await db()
      .transaction(async (trx) => {
        rolledBack.push(await writeOutbox(trx, { tenantId: tenant.tenantId, topic, payload: { n: -1 } }));
        throw new Error("the change failed");
      })
      .catch(() => undefined);

    const a = h.runnerOn(db(), kindsFor("a"), topics, { concurrency: 3 });
    const b = h.runnerOn(h.otherDb, kindsFor("b"), topics, { concurrency: 3 });
    await Promise.all([a.start(), b.start()]);
    await until("every outbox row's job to succeed", async () => {
      const done = await db()("jobs").where({ kind: effect, status: "succeeded" }).count({ n: "*" }).first();
      return Number(done!.n) >= written.length;
    });
    await Promise.all([a.stop(), b.stop()]);

    const rows = await db()("outbox").where({ tenant_id: tenant.tenantId }).orderBy("id");
    expect(rows.map((r: { id: number }) => Number(r.id))).toEqual(written);
    expect(rows.every((r: { dispatched_at: Date | null; dispatched_jobs: number }) => r.dispatched_at && r.dispatched_jobs === 1)).toBe(true);
    const jobs = await db()("jobs").where({ kind: effect });
    expect(jobs).toHaveLength(written.length);
    expect(jobs.every((j: JobRow) => j.tenant_id === tenant.tenantId)).toBe(true);
    expect(jobs.map((j: JobRow) => Number(j.payload.outboxId)).sort((x: number, y: number) => x - y)).toEqual(written);
    const effects = await h.effectsOf(jobs.map((j: JobRow) => Number(j.id)));
    expect([...effects.values()].every((n) => n === 1) && effects.size === written.length).toBe(true);
    expect(await db()("jobs").whereRaw("payload->>'outboxId' = ?", [String(rolledBack[0])]).where({ kind: effect })).toEqual([]);
  });

  it("a row its topic cannot dispatch holds back no other row, warns once, and is set aside after repeated failures", async () => {
    const clock = createTestClock();
    const topic = h.kindName("sometimes-broken");
    const effect = h.kindName("deliver-good");
    const topics: OutboxTopic[] = [
      {
        topic,
        async jobsFor(trx, row) {
          if (row.payload.broken) {
            // Written before the throw: the row's savepoint must take it back.
            await trx("jobs").insert({ kind: effect, payload: JSON.stringify({ partial: row.id }) });
            throw new Error("cannot read this row");
          }
          return [{ kind: effect, payload: { outboxId: row.id } }];
        },
      },
    ];
    const { logger, lines } = capturedLogger();
    const dispatcher = outboxDispatchJob(new Map(topics.map((x) => [x.topic, x])), h.kindName("dispatch-broken"));
    const runner = h.runnerOn(db(), [dispatcher, h.effectKind("deliver-good", "g")], topics, { clock, logger });
    const tenant = await h.server.createTenant("Broken outbox tenant");
    const write = (payload: Record<string, unknown>) => db().transaction((trx) => writeOutbox(trx, { tenantId: tenant.tenantId, topic, payload }));
    const bad = await write({ broken: true }); // first in line
    const good = [await write({ n: 1 }), await write({ n: 2 }), await write({ n: 3 })];

    await runner.scheduleRecurring();
    for (let round = 0; round < OUTBOX_SET_ASIDE_AFTER + 2; round++) {
      await runner.runDue();
      clock.shift(1_100);
    }

    const rows = await db()("outbox").where({ tenant_id: tenant.tenantId }).orderBy("id");
    const badRow = rows.find((r: { id: number }) => Number(r.id) === bad)!;
    expect(badRow).toMatchObject({ dispatched_at: null, dispatch_failures: OUTBOX_SET_ASIDE_AFTER });
    expect(badRow.set_aside_at).not.toBeNull();
    expect(badRow.last_error).toContain("cannot read this row");
    expect(rows.filter((r: { id: number }) => good.includes(Number(r.id))).every((r: { dispatched_jobs: number }) => r.dispatched_jobs === 1)).toBe(true);
    const delivered = await db()("jobs").where({ kind: effect });
    expect(delivered.map((j: JobRow) => Number(j.payload.outboxId)).sort((x: number, y: number) => x - y)).toEqual(good);
    expect(delivered.every((j: JobRow) => j.status === "succeeded")).toBe(true);

    const about = (level: number) => lines.filter((l) => l.outboxId === bad && l.level === level);
    expect(about(40)).toHaveLength(1); // one warning, not one a dispatch
    expect(about(50)).toHaveLength(1); // and one error when it is set aside
    // The dispatcher itself kept succeeding: no failed runs of its job.
    expect((await db()("jobs").where({ kind: dispatcher.kind }).first()).last_error).toBeNull();
  });
});
