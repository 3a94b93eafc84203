/**
 * What the job-runner test files share: the app on the real database (embedded PGlite, or Postgres when
 * DATABASE_URL is set: then the second runner has a connection pool of its own, so the two really race), an effects
 * table, kinds named for this run (so the runners never touch another file's jobs) and runners built on either
 * database. Time moves through an injected clock rather than sleeps.
 */
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { Knex } from "knex";
import { afterAll, beforeAll } from "vitest";
import { startTestServer, usingRealServices, type TestServer } from "../support/harness.js";
import { testDatabaseUrl } from "../support/env.js";
import { createDatabase } from "../../server/src/db/database.js";
import type { Deps } from "../../server/src/deps.js";
import { createLogger } from "../../server/src/logging/logger.js";
import { createJobRegistry, type JobKind, type OutboxTopic } from "../../server/src/jobs/kinds.js";
import { createJobRunner, type JobRunner, type RunnerOptions } from "../../server/src/jobs/runner.js";
import { findJob, type JobRow } from "../../server/src/stores/jobs.js";

export interface JobRunnerHarness {
  readonly server: TestServer;
  /** The second runner's database: its own pool on Postgres; the one embedded connection otherwise. */
  readonly otherDb: Knex;
  kindName(name: string): string;
  /** A transactional kind whose effect is one row naming the job and the runner that ran it. */
  effectKind(name: string, runner: string, extra?: Partial<JobKind>): JobKind;
  runnerOn(db: Knex, kinds: JobKind[], topics?: OutboxTopic[], opts?: RunnerOptions & Partial<Pick<Deps, "clock" | "logger">>): JobRunner;
  effectsOf(ids: number[]): Promise<Map<number, number>>;
  job(id: number): Promise<JobRow>;
  succeeded(ids: number[]): Promise<number>;
}

export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** Log lines (parsed) of a logger the test hands to a runner. */
export function capturedLogger(): { logger: Deps["logger"]; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({ level: "debug", destination: { write: (line: string) => void lines.push(JSON.parse(line)) } });
  return { logger, lines };
}

/** Registers the file's hooks (start, and clean up what this run made) and returns the harness. */
export function useJobRunnerHarness(): JobRunnerHarness {
  const run = randomUUID().slice(0, 8);
  const effects = `job_effects_${run}`;
  const runners: JobRunner[] = [];
  let server: TestServer;
  let otherDb: Knex;

  beforeAll(async () => {
    server = await startTestServer();
    otherDb = usingRealServices.postgres
      ? await createDatabase({ databaseUrl: testDatabaseUrl, dataDir: "", poolMax: 6 })
      : server.deps.db;
    await server.deps.db.raw(`CREATE TABLE ${effects} (job_id bigint NOT NULL, runner text NOT NULL, at timestamptz NOT NULL DEFAULT now())`);
  });

  afterAll(async () => {
    await Promise.allSettled(runners.map((r) => r.stop()));
    if (server) {
      await server.deps.db.raw(`DROP TABLE IF EXISTS ${effects}`);
      await server.deps.db("jobs").where("kind", "like", `test.${run}.%`).delete();
    }
    if (otherDb && otherDb !== server?.deps.db) await otherDb.destroy();
    await server?.stop();
  });

  const kindName = (name: string) => `test.${run}.${name}`;
  return {
    get server() {
      return server;
    },
    get otherDb() {
      return otherDb;
    },
    kindName,
    effectKind(name, runner, extra = {}) {
      return {
        kind: kindName(name),
        transactional: true,
        ...extra,
        async run(trx: Knex.Transaction, job: JobRow) {
          await trx(effects).insert({ job_id: job.id, runner });
          if (job.payload.failUntilAttempt && job.attempts < Number(job.payload.failUntilAttempt)) {
            throw new Error(`refused on attempt ${job.attempts} for +919812345678`);
          }
        },
      } as JobKind;
    },
    runnerOn(db, kinds, topics = [], opts = {}) {
      const { clock, logger, ...runnerOptions } = opts;
      const deps: Deps = { ...server.deps, db, ...(clock ? { clock } : {}), ...(logger ? { logger } : {}) };
      const runner = createJobRunner(deps, createJobRegistry(kinds, topics), { pollIntervalMs: 20, random: () => 0.5, ...runnerOptions });
      runners.push(runner);
      return runner;
    },
    async effectsOf(ids) {
      const rows = (await server.deps.db(effects).whereIn("job_id", ids).select("job_id").count({ n: "*" }).groupBy("job_id")) as Array<{
        job_id: number;
        n: number;
      }>;
      return new Map(rows.map((r) => [Number(r.job_id), Number(r.n)]));
    },
    async job(id) {
      return (await findJob(server.deps.db, id))!;
    },
    async succeeded(ids) {
      const done = await server.deps.db("jobs").whereIn("id", ids).where({ status: "succeeded" }).count({ n: "*" }).first();
      return Number(done!.n);
    },
  };
}
