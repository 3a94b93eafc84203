/**
 * The answer webhook: saturation (closed loop) and latency at a fixed offered rate (open loop), every request
 * signed with a fresh nonce and CallUUID and routed to a live session, then a check that one call row was written
 * per 200 reply. The same pair of loads, pointed at the bare Koa baseline, is `measureAnswerPair` alone.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { runLoad, type LoadResult } from "../loadgen.js";
import { scalar } from "../db.js";
import type { ScenarioEnv, Timing } from "./types.js";

export interface AnswerLoadConfig {
  connections: number;
  rate: number;
  openConnections: number;
}

export interface AnswerPair {
  saturation: LoadResult;
  fixedRate: LoadResult;
}

export interface AnswerFigures extends AnswerPair {
  /**
   * One call row per 200 reply. Requests the open loop abandoned unanswered may or may not have been processed, so
   * with `abandoned` > 0 the check is ok ≤ written ≤ ok + abandoned; without, it is equality.
   */
  callRows: { okReplies: number; abandoned: number; written: number; waitedMs: number; match: boolean };
}

export async function measureAnswerPair(
  origin: string,
  url: string,
  authToken: string,
  routes: Array<[string, string]>,
  timing: Timing,
  cfg: AnswerLoadConfig,
): Promise<AnswerPair> {
  const requests = { kind: "answer" as const, url, authToken, routes };
  const base = { origin, warmupMs: timing.warmupMs, durationMs: timing.durationMs, timeoutMs: timing.timeoutMs, requests };
  const saturation = await runLoad({ ...base, mode: "closed", connections: cfg.connections });
  const fixedRate = await runLoad({ ...base, mode: "open", connections: cfg.openConnections, rate: cfg.rate });
  return { saturation, fixedRate };
}

const countCalls = (env: ScenarioEnv) => scalar<number>(env.db, "select count(*) from calls where tenant_id = $1", [env.tenant.tenantId]);

export async function measureAnswer(env: ScenarioEnv, routes: Array<[string, string]>, cfg: AnswerLoadConfig): Promise<AnswerFigures> {
  const before = await countCalls(env);
  const pair = await measureAnswerPair(env.origin, env.tenant.answerUrl, env.tenant.authToken, routes, env.timing, cfg);
  const okReplies = pair.saturation.totals.ok + pair.fixedRate.totals.ok;
  const abandoned = pair.saturation.totals.abandoned + pair.fixedRate.totals.abandoned;
  // Rows may be written behind the reply: give them a moment to land.
  const t0 = performance.now();
  let written = (await countCalls(env)) - before;
  while (written < okReplies && performance.now() - t0 < 5_000) {
    await sleep(100);
    written = (await countCalls(env)) - before;
  }
  if (abandoned > 0) await sleep(1_000); // abandoned requests may still be finishing on the server
  written = (await countCalls(env)) - before;
  const match = abandoned === 0 ? written === okReplies : written >= okReplies && written <= okReplies + abandoned;
  return { ...pair, callRows: { okReplies, abandoned, written, waitedMs: Math.round(performance.now() - t0), match } };
}
