/**
 * The answer webhook: saturation (closed loop), latency at the target's fixed offered rate (open loop) and at half
 * the measured saturation (open loop: the latency of a server that keeps up), every request signed with a fresh
 * nonce and CallUUID and routed to a live session; then a check that one call row was written per 200 reply.
 * `measureBare` sends the same requests to the bare Koa baseline.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { LoadResult } from "../loadgen.js";
import { runLoad } from "../loadgen-runner.js";
import { scalar } from "../db.js";
import { withDbWork } from "../dbstats.js";
import type { ScenarioEnv, Timing } from "./types.js";

export interface AnswerLoadConfig {
  connections: number;
  rate: number;
  openConnections: number;
}

export interface BareFigures {
  saturation: LoadResult;
  fixedRate?: LoadResult;
}

export interface AnswerFigures {
  saturation: LoadResult;
  fixedRate: LoadResult;
  halfSaturation?: LoadResult;
  /**
   * One call row per 200 reply. Requests the open loop abandoned unanswered may or may not have been processed, so
   * with `abandoned` > 0 the check is ok ≤ written ≤ ok + abandoned; without, it is equality.
   */
  callRows: { okReplies: number; abandoned: number; written: number; waitedMs: number; match: boolean };
}

type Routes = Array<[string, string]>;

function load(origin: string, url: string, authToken: string, routes: Routes, timing: Timing, mode: "closed" | "open", connections: number, rate?: number) {
  return runLoad({
    origin,
    mode,
    connections,
    ...(rate === undefined ? {} : { rate }),
    warmupMs: timing.warmupMs,
    durationMs: timing.durationMs,
    timeoutMs: timing.timeoutMs,
    requests: { kind: "answer", url, authToken, routes },
  });
}

/** Half the measured saturation, rounded to tens, at least 10/s. */
export const halfOf = (saturation: LoadResult) => Math.max(10, Math.round(saturation.okPerSecond / 20) * 10);

export async function measureBare(origin: string, authToken: string, routes: Routes, timing: Timing, cfg: AnswerLoadConfig, withFixedRate: boolean): Promise<BareFigures> {
  const url = `${origin}/v1/vobiz/app_bare/answer?k=x`;
  const saturation = await load(origin, url, authToken, routes, timing, "closed", cfg.connections);
  if (!withFixedRate) return { saturation };
  return { saturation, fixedRate: await load(origin, url, authToken, routes, timing, "open", cfg.openConnections, cfg.rate) };
}

const countCalls = (env: ScenarioEnv) => scalar<number>(env.db, "select count(*) from calls where tenant_id = $1", [env.tenant.tenantId]);

export async function measureAnswer(env: ScenarioEnv, routes: Routes, cfg: AnswerLoadConfig, opts: { halfSaturation: boolean }): Promise<AnswerFigures> {
  const { origin, timing } = env;
  const { answerUrl, authToken } = env.tenant;
  const before = await countCalls(env);
  const saturation = await withDbWork(env.db, () => load(origin, answerUrl, authToken, routes, timing, "closed", cfg.connections));
  const fixedRate = await load(origin, answerUrl, authToken, routes, timing, "open", cfg.openConnections, cfg.rate);
  const halfSaturation = opts.halfSaturation
    ? await load(origin, answerUrl, authToken, routes, timing, "open", cfg.openConnections, halfOf(saturation))
    : undefined;
  const runs = [saturation, fixedRate, ...(halfSaturation ? [halfSaturation] : [])];
  const okReplies = runs.reduce((n, r) => n + (r.allAttempts ?? r.totals).ok, 0);
  const abandoned = runs.reduce((n, r) => n + (r.allAttempts ?? r.totals).abandoned, 0);
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
  return {
    saturation,
    fixedRate,
    ...(halfSaturation ? { halfSaturation } : {}),
    callRows: { okReplies, abandoned, written, waitedMs: Math.round(performance.now() - t0), match },
  };
}
