/** One scale level's measurements, in order: bare baseline, routing query, answer webhook, session create. */
import type { Keyring } from "../../server/src/crypto/keyring.js";
import { measureRoutingQuery } from "./explain.js";
import { assertAlive, type Started } from "./processes.js";
import { scaleLabel, type BenchReport, type LevelReport } from "./report.js";
import { measureAnswer, measureBare } from "./scenarios/answer.js";
import { measureCreate, type CreatePeopleState } from "./scenarios/create.js";
import type { ScenarioEnv } from "./scenarios/types.js";
import { runLoad } from "./loadgen-runner.js";
import { CREATE_PREFIX, PERSON_DIGITS } from "./people.js";
import type { Profile } from "./profiles.js";

export interface LevelContext {
  level: LevelReport;
  report: BenchReport;
  server: Started;
  bareOrigin: string | undefined;
  env: ScenarioEnv;
  keys: Keyring;
  /** [From, To] of live participants (uniform sample). */
  routes: Array<[string, string]>;
  createPeople: CreatePeopleState;
  profile: Profile;
  half: boolean;
  only: Set<string>;
  /** Send unrecorded traffic to the server first (the first level). */
  warmUp: boolean;
}

export async function measureLevel(ctx: LevelContext): Promise<void> {
  const { level, report, server, bareOrigin, env, keys, routes, createPeople, profile, half } = ctx;
  const { tenant, db: dbA, log } = env;
  const label = scaleLabel(level.targetSessions);
  const guard = async (what: string, work: () => Promise<void>) => {
    try {
      assertAlive(server, "the server");
      await work();
      assertAlive(server, "the server");
    } catch (err) {
      const message = `${what} @ ${label}: ${err instanceof Error ? err.message : String(err)}`;
      report.errors.push(message);
      log(`  FAILED ${message}`);
    }
  };

  if (bareOrigin) {
    await guard("bare Koa", async () => {
      const withFixedRate = !report.bare;
      log(`  bare Koa baseline: saturation${withFixedRate ? ", then 1,000/s offered" : ""}`);
      level.bare = await measureBare(bareOrigin!, tenant.authToken, routes, profile.timing, profile.answer, withFixedRate);
      report.bare ??= level.bare;
      log(`  bare: ${level.bare.saturation.okPerSecond} req/s${level.bare.fixedRate ? `; p99 @1000/s ${level.bare.fixedRate.latencyMs.p99} ms` : ""}`);
    });
  }
  if (ctx.warmUp) {
    // The first level is the server's first traffic: JIT and caches are cold. A few seconds of both kinds of
    // request, not recorded, so the first level is not penalised for what the later ones never pay.
    await guard("server warm-up", async () => {
      log("  server warm-up (not recorded)");
      const base = { origin: env.origin, warmupMs: 0, durationMs: Math.max(2_000, profile.timing.warmupMs * 2), timeoutMs: profile.timing.timeoutMs };
      await runLoad({ ...base, mode: "closed", connections: 16, requests: { kind: "answer", url: tenant.answerUrl, authToken: tenant.authToken, routes } });
      const created = await runLoad({
        ...base,
        mode: "closed",
        connections: 8,
        requests: {
          kind: "create",
          url: `${env.origin}/v1/sessions`,
          apiKey: tenant.apiKey,
          drivers: [],
          maxPerDriver: 0,
          driverShare: 0,
          newPeoplePrefix: CREATE_PREFIX,
          newPeopleDigits: PERSON_DIGITS,
          newPeopleStart: createPeople.next,
          ttlSeconds: 3600,
        },
      });
      createPeople.next = created.factoryState.nextNewPerson ?? createPeople.next;
    });
  }
  await guard("routing query", async () => {
    level.routingQuery = await measureRoutingQuery(dbA, keys, tenant, routes, profile.routingSamples);
  });
  if (ctx.only.has("answer")) {
    await guard("answer", async () => {
      log(`  answer webhook: saturation, then 1,000/s offered${half ? ", then ½ saturation" : ""}`);
      level.answer = await measureAnswer(env, routes, profile.answer, { halfSaturation: half });
      const a = level.answer;
      log(
        `  answer: ${a.saturation.okPerSecond} req/s (p99 ${a.saturation.latencyMs.p99} ms); @1000/s p50 ${a.fixedRate.latencyMs.p50} ms ` +
          `p99 ${a.fixedRate.latencyMs.p99} ms` +
          (a.halfSaturation ? `; @${a.halfSaturation.offeredRate}/s p50 ${a.halfSaturation.latencyMs.p50} ms p99 ${a.halfSaturation.latencyMs.p99} ms` : "") +
          `; non-Dial ${a.saturation.checkFailures + a.fixedRate.checkFailures}; ` +
          `call rows ${a.callRows.written} for ${a.callRows.okReplies} 200s (+${a.callRows.abandoned} abandoned)`,
      );
    });
  }
  if (ctx.only.has("create")) {
    await guard("create", async () => {
      log(`  session create: saturation, then 500/s offered${half ? ", then ½ saturation" : ""}`);
      level.create = await measureCreate(env, createPeople, profile.create, { halfSaturation: half });
      const c = level.create;
      log(
        `  create: ${c.saturation.okPerSecond}/s (p99 ${c.saturation.latencyMs.p99} ms); @500/s p50 ${c.fixedRate.latencyMs.p50} ms ` +
          `p99 ${c.fixedRate.latencyMs.p99} ms` +
          (c.halfSaturation ? `; @${c.halfSaturation.offeredRate}/s p50 ${c.halfSaturation.latencyMs.p50} ms p99 ${c.halfSaturation.latencyMs.p99} ms` : "") +
          `; non-201 ${(c.nonCreatedShare * 100).toFixed(2)}%; violations ${c.invariantViolations}`,
      );
    });
  }
}
