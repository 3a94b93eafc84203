/**
 * Growth from empty (hardening finding 5): sessions created through the API on a database that started empty and
 * is never analyzed, with answers interleaved, in steps. Each step is a closed-loop create window, then a
 * closed-loop answer window routed to a uniform sample of every live participant so far (their numbers read back
 * from the database and decrypted with the server's keyring). The server's first requests, on tiny tables, are
 * what its connections plan the hot statements with; the first step's rates against the last step's say whether
 * either hot path's cost grew with the tables.
 */
import type pg from "pg";
import type { Keyring } from "../../../server/src/crypto/keyring.js";
import type { CpuGroup } from "../cpu.js";
import type { LoadResult } from "../loadgen.js";
import { runLoad } from "../loadgen-runner.js";
import type { MemoryReading } from "../processes.js";
import { scalar } from "../db.js";
import { withDbWork } from "../dbstats.js";
import { CREATE_PREFIX, PERSON_DIGITS, person } from "../people.js";
import type { CreatePeopleState } from "./create.js";
import type { ScenarioEnv } from "./types.js";

export interface GrowthConfig {
  /** Live sessions to grow to, from zero. */
  targetSessions: number;
  createWindowMs: number;
  answerWindowMs: number;
  /** Unrecorded lead-in of every load (each runs in a fresh load-generator process with fresh connections). */
  loadWarmupMs: number;
  /** The server's first traffic, creates then answers for this long each, not recorded (JIT, pools, caches). */
  serverWarmupMs: number;
  createConnections: number;
  answerConnections: number;
  /** Busy drivers per step, their share of sessions and their cap, as in the create scenario. */
  drivers: number;
  driverShare: number;
  maxPerDriver: number;
  /** Growing stops after this long even short of the target (a server that slows down may never get there). */
  maxGrowMs: number;
  /** Live participants sampled as answer routes before each answer window. */
  routeSample: number;
}

/** One closed-loop window, reduced to what the growth curve needs. */
export interface GrowthLoad {
  okPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Replies that failed the scenario's check (not a 201; a 200 without <Dial>) plus transport errors. */
  bad: number;
  cpuMsPerReply?: Record<CpuGroup, number>;
  /** Cores used outside the bench during the window (above 0.2 the figure is skewed). */
  otherCores?: number;
  /** Rows read per request (tup_fetched + tup_returned of pg_stat_database): first and last steps only. */
  rowsReadPerRequest?: number;
}

export interface GrowthStep {
  step: number;
  /** Live sessions of the tenant when the step started, and call rows then. */
  sessions: number;
  calls: number;
  create: GrowthLoad;
  answer: GrowthLoad;
}

export interface GrowthFigures {
  database: string;
  /** The server's autovacuum setting, and the bench tables that had statistics at the end (should be none). */
  autovacuum: string;
  analyzedTables: string[];
  targetSessions: number;
  reachedSessions: number;
  calls: number;
  steps: GrowthStep[];
  growMs: number;
  /** The phase's own server (added by growth.ts). */
  serverMemory?: MemoryReading;
}

function compact(load: LoadResult & { dbPerRequest?: Record<string, number> }): GrowthLoad {
  const db = load.dbPerRequest;
  return {
    okPerSecond: load.okPerSecond,
    p50Ms: load.latencyMs.p50,
    p99Ms: load.latencyMs.p99,
    bad: load.checkFailures + load.errors,
    ...(load.cpu ? { cpuMsPerReply: load.cpu.msPerReply, otherCores: load.cpu.otherCores } : {}),
    ...(db ? { rowsReadPerRequest: Math.round((db.tup_fetched ?? 0) + (db.tup_returned ?? 0)) } : {}),
  };
}

/** A uniform sample of the tenant's live participants as [From, To]: the real number (decrypted) and its DID. */
async function sampleRoutes(db: pg.Client, keys: Keyring, tenantId: string, size: number): Promise<Array<[string, string]>> {
  const { rows } = await db.query<{ number_enc: string; e164: string }>(
    `SELECT p.number_enc, n.e164 FROM participants p JOIN numbers n ON n.id = p.proxy_number_id
      WHERE p.tenant_id = $1 AND p.active ORDER BY random() LIMIT $2`,
    [tenantId, size],
  );
  return rows.map((r) => [keys.decrypt(r.number_enc), r.e164]);
}

const liveSessions = (env: ScenarioEnv) =>
  scalar<number>(env.db, "SELECT count(*) FROM sessions WHERE tenant_id = $1 AND status = 'open' AND expires_at > now()", [env.tenant.tenantId]);
const callRows = (env: ScenarioEnv) => scalar<number>(env.db, "SELECT count(*) FROM calls WHERE tenant_id = $1", [env.tenant.tenantId]);

export async function measureGrowth(env: ScenarioEnv, keys: Keyring, cfg: GrowthConfig): Promise<GrowthFigures> {
  const people: CreatePeopleState = { next: 0 };
  const creates = (durationMs: number, warmupMs: number) => {
    const drivers = Array.from({ length: cfg.drivers }, () => person(CREATE_PREFIX, people.next++));
    return runLoad({
      origin: env.origin,
      mode: "closed",
      connections: cfg.createConnections,
      warmupMs,
      durationMs,
      timeoutMs: env.timing.timeoutMs,
      requests: {
        kind: "create",
        url: `${env.origin}/v1/sessions`,
        apiKey: env.tenant.apiKey,
        drivers,
        maxPerDriver: cfg.maxPerDriver,
        driverShare: cfg.driverShare,
        newPeoplePrefix: CREATE_PREFIX,
        newPeopleDigits: PERSON_DIGITS,
        newPeopleStart: people.next,
        ttlSeconds: 3600,
      },
    }).then((result) => {
      people.next = result.factoryState.nextNewPerson ?? people.next;
      return result;
    });
  };
  const answers = async (durationMs: number, warmupMs: number) =>
    runLoad({
      origin: env.origin,
      mode: "closed",
      connections: cfg.answerConnections,
      warmupMs,
      durationMs,
      timeoutMs: env.timing.timeoutMs,
      requests: {
        kind: "answer",
        url: env.tenant.answerUrl,
        authToken: env.tenant.authToken,
        routes: await sampleRoutes(env.db, keys, env.tenant.tenantId, cfg.routeSample),
      },
    });

  // The server's first traffic, on tables of a few rows: JIT, and the plans its connections keep. Not recorded.
  env.log("  growth warm-up (not recorded): creates, then answers, on an empty database");
  await creates(cfg.serverWarmupMs, 0);
  await answers(cfg.serverWarmupMs, 0);

  const steps: GrowthStep[] = [];
  const t0 = performance.now();
  let lastStepMs = 0;
  let lastStepSessions = 0;
  for (;;) {
    const sessions = await liveSessions(env);
    const calls = await callRows(env);
    const elapsed = performance.now() - t0;
    if (steps.length > 0 && (sessions >= cfg.targetSessions || elapsed >= cfg.maxGrowMs)) break;
    const stepStart = performance.now();
    // Database work per request costs a counter flush (≈ 1.2 s) per load: only where start and end are compared.
    const predictedLast = sessions + lastStepSessions >= cfg.targetSessions || elapsed + lastStepMs >= cfg.maxGrowMs;
    const measured = steps.length === 0 || predictedLast;
    const create = measured
      ? await withDbWork(env.db, () => creates(cfg.createWindowMs, cfg.loadWarmupMs))
      : await creates(cfg.createWindowMs, cfg.loadWarmupMs);
    const answer = measured
      ? await withDbWork(env.db, () => answers(cfg.answerWindowMs, cfg.loadWarmupMs))
      : await answers(cfg.answerWindowMs, cfg.loadWarmupMs);
    const step: GrowthStep = { step: steps.length + 1, sessions, calls, create: compact(create), answer: compact(answer) };
    steps.push(step);
    lastStepMs = performance.now() - stepStart;
    lastStepSessions = (create.allAttempts ?? create.totals).ok;
    env.log(
      `  step ${step.step}: ${sessions.toLocaleString("en-US")} sessions, ${calls.toLocaleString("en-US")} calls → ` +
        `create ${step.create.okPerSecond}/s (p99 ${step.create.p99Ms} ms), answer ${step.answer.okPerSecond}/s (p99 ${step.answer.p99Ms} ms)` +
        (step.create.rowsReadPerRequest === undefined ? "" : `; rows read per create ${step.create.rowsReadPerRequest}, per answer ${step.answer.rowsReadPerRequest}`),
    );
  }
  const growMs = Math.round(performance.now() - t0);

  const { rows: analyzed } = await env.db.query<{ relname: string }>(
    `SELECT relname FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL ORDER BY relname`,
  );
  return {
    database: await scalar<string>(env.db, "SELECT current_database()"),
    autovacuum: await scalar<string>(env.db, "SELECT current_setting('autovacuum')"),
    analyzedTables: analyzed.map((r) => r.relname),
    targetSessions: cfg.targetSessions,
    reachedSessions: await liveSessions(env),
    calls: await callRows(env),
    steps,
    growMs,
  };
}
