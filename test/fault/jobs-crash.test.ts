/**
 * The real service, as a child process on the test's own Postgres, is killed with SIGKILL while jobs are running
 * and queued and its outbox dispatcher is part-way through its rows, then started again on the same database.
 * Every job (the ones enqueued directly and the ones the outbox rows become) runs exactly once to completion:
 * one effect row per job, whatever the kill interrupted. The probe kind and topic are loaded with `--import`
 * (test/fault/jobs-probe.ts, through the owned service's `imports` option); the service's code is otherwise what ships.
 */
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { TEST_ADMIN_TOKEN, TEST_MASTER_KEY, TEST_SIGNING_KEY } from "../support/env.js";
import { startOwnedPostgres, startServiceProcess, waitFor, type OwnedPostgres, type ServiceProcess } from "../support/owned/index.js";
import { apiClient } from "./api.js";
import { PUBLIC_BASE_URL } from "./carrier.js";
import { describeWithOwnedServices } from "./suite.js";
import { PROBE_KIND, PROBE_TOPIC } from "./jobs-probe.js";

const JOBS = 120;
const OUTBOX_ROWS = 40;
/** The kill lands once this many jobs have committed their effect, with others claimed and others queued. */
const EFFECTS_BEFORE_KILL = 12;
const PROBE_PRELOAD = fileURLToPath(new URL("./jobs-probe.ts", import.meta.url));

interface AtKill {
  effects: number;
  running: number;
  pending: number;
  outboxPending: number;
}

describeWithOwnedServices("fault: the service is killed with SIGKILL while jobs and outbox rows are pending", () => {
  let postgres: OwnedPostgres;
  const started: ServiceProcess[] = [];
  let atKill: AtKill;
  let killedBy: NodeJS.Signals | null = null;
  let jobIds: number[] = [];

  const count = async (sql: string, params: unknown[] = []) => Number((await postgres.query<{ n: string }>(sql, params))[0]!.n);

  const startService = async () => {
    const proc = await startServiceProcess({
      env: {
        DATABASE_URL: postgres.url,
        MASKLINE_MASTER_KEY: TEST_MASTER_KEY,
        MASKLINE_SIGNING_KEY: TEST_SIGNING_KEY,
        MASKLINE_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
        PUBLIC_BASE_URL,
        LOG_LEVEL: "warn",
      },
      imports: [PROBE_PRELOAD],
    });
    started.push(proc);
    await proc.waitReady(60_000);
    return proc;
  };

  beforeAll(async () => {
    postgres = await startOwnedPostgres();
    const first = await startService(); // migrates
    await postgres.query("CREATE TABLE probe_effects (job_id bigint NOT NULL, pid integer NOT NULL, at timestamptz NOT NULL DEFAULT now())");
    const tenant = await apiClient(() => first.baseUrl).createTenant("Jobs crash");

    // Written straight into the tables, as a service's transaction would: the runner finds them on its next poll.
    jobIds = (
      await postgres.query<{ id: string }>(
        `INSERT INTO jobs (kind, payload, max_attempts)
         SELECT $1, jsonb_build_object('sleepMs', 50, 'n', n), 20 FROM generate_series(1, $2) n RETURNING id`,
        [PROBE_KIND, JOBS],
      )
    ).map((r) => Number(r.id));
    await postgres.query(
      `INSERT INTO outbox (tenant_id, topic, payload) SELECT $1, $2, jsonb_build_object('n', n) FROM generate_series(1, $3) n`,
      [tenant.tenantId, PROBE_TOPIC, OUTBOX_ROWS],
    );

    // Mid-way, and with work in flight: effects committed, jobs claimed (their handlers running) and jobs queued.
    await waitFor(
      `${EFFECTS_BEFORE_KILL} job effects, with jobs running and queued, before the kill`,
      async () => {
        const [state] = await postgres.query<{ effects: string; running: string; queued: string }>(
          `SELECT (SELECT count(*) FROM probe_effects) AS effects,
                  count(*) FILTER (WHERE status = 'running') AS running,
                  count(*) FILTER (WHERE status = 'queued') AS queued
             FROM jobs WHERE kind = $1`,
          [PROBE_KIND],
        );
        const ready = Number(state!.effects) >= EFFECTS_BEFORE_KILL && Number(state!.running) > 0 && Number(state!.queued) > 0;
        return ready ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 10 },
    );
    killedBy = (await first.kill("SIGKILL")).signal;
    atKill = {
      effects: await count("SELECT count(*) AS n FROM probe_effects"),
      running: await count("SELECT count(*) AS n FROM jobs WHERE kind = $1 AND status = 'running'", [PROBE_KIND]),
      pending: await count("SELECT count(*) AS n FROM jobs WHERE kind = $1 AND status <> 'succeeded'", [PROBE_KIND]),
      outboxPending: await count("SELECT count(*) AS n FROM outbox WHERE dispatched_at IS NULL"),
    };

    await startService();
    // Jobs the kill left claimed wait for their lease (a few seconds), then run on the new process.
    await waitFor(
      "every probe job, and every outbox row's, to succeed",
      async () => {
        const done = await count("SELECT count(*) AS n FROM jobs WHERE kind = $1 AND status = 'succeeded'", [PROBE_KIND]);
        const undispatched = await count("SELECT count(*) AS n FROM outbox WHERE dispatched_at IS NULL");
        return done === JOBS + OUTBOX_ROWS && undispatched === 0 ? true : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 200 },
    );
  }, 240_000);

  afterAll(async () => {
    await Promise.allSettled(started.map((s) => s.stop()));
    await postgres?.destroy();
  }, 60_000);

  it("the kill landed mid-way: jobs had run, others were claimed or queued, and outbox rows were pending", () => {
    expect(killedBy).toBe("SIGKILL");
    expect(atKill.effects).toBeGreaterThanOrEqual(EFFECTS_BEFORE_KILL);
    expect(atKill.effects).toBeLessThan(JOBS);
    expect(atKill.pending).toBeGreaterThan(0);
    expect(atKill.running).toBeGreaterThan(0);
    expect(atKill.outboxPending).toBeGreaterThan(0);
  });

  it("every job ran exactly once to completion: one effect row each, none lost, none repeated", async () => {
    const perJob = await postgres.query<{ id: string; attempts: number; effects: string }>(
      `SELECT j.id, j.attempts, (SELECT count(*) FROM probe_effects e WHERE e.job_id = j.id) AS effects
         FROM jobs j WHERE j.kind = $1`,
      [PROBE_KIND],
    );
    expect(perJob).toHaveLength(JOBS + OUTBOX_ROWS);
    expect(perJob.filter((j) => Number(j.effects) !== 1).map((j) => `${j.id}: ${j.effects}`)).toEqual([]);
    // Effects of attempts the kill interrupted were rolled back with them; no effect row names an unknown job.
    expect(await count("SELECT count(*) AS n FROM probe_effects WHERE job_id NOT IN (SELECT id FROM jobs)")).toBe(0);
    expect(jobIds.length).toBe(JOBS);
    // Both processes did part of the work.
    const pids = await postgres.query<{ pid: number }>("SELECT DISTINCT pid FROM probe_effects");
    expect(pids.length).toBe(2);
  });

  it("jobs the dead process held were claimed again after their lease, counting that attempt", async () => {
    expect(atKill.running).toBeGreaterThan(0);
    expect(await count("SELECT count(*) AS n FROM jobs WHERE kind = $1 AND attempts >= 2", [PROBE_KIND])).toBeGreaterThan(0);
  });

  it("every outbox row became exactly one job, and is marked dispatched", async () => {
    const rows = await postgres.query<{ id: string; dispatched_jobs: number; jobs: string }>(
      `SELECT o.id, o.dispatched_jobs,
              (SELECT count(*) FROM jobs j WHERE j.kind = $1 AND (j.payload->>'outboxId')::bigint = o.id) AS jobs
         FROM outbox o`,
      [PROBE_KIND],
    );
    expect(rows).toHaveLength(OUTBOX_ROWS);
    expect(rows.filter((r) => r.dispatched_jobs !== 1 || Number(r.jobs) !== 1)).toEqual([]);
  });

  it("each recurring kind still has exactly one row", async () => {
    const recurring = await postgres.query<{ dedupe_key: string; n: string }>(
      "SELECT dedupe_key, count(*) AS n FROM jobs WHERE dedupe_key LIKE 'recurring:%' GROUP BY dedupe_key ORDER BY dedupe_key",
    );
    expect(recurring).toEqual([
      { dedupe_key: "recurring:metrics.pools", n: "1" },
      { dedupe_key: "recurring:outbox.dispatch", n: "1" },
      { dedupe_key: "recurring:retention.purge", n: "1" },
      { dedupe_key: "recurring:sessions.expire", n: "1" },
    ]);
  });
});
