/**
 * Session create: saturation (closed loop) and latency at a fixed offered rate (open loop) against the tenant's
 * DID pool, with a few busy drivers (many concurrent sessions each, racing each other for DIDs) and everyone else
 * new; then the allocation invariant re-checked in SQL.
 */
import type { LoadResult } from "../loadgen.js";
import { runLoad } from "../loadgen-runner.js";
import { scalar } from "../db.js";
import { withDbWork } from "../dbstats.js";
import { CREATE_PREFIX, PERSON_DIGITS, person } from "../people.js";
import type { ScenarioEnv } from "./types.js";
import { halfOf } from "./answer.js";

export interface CreateLoadConfig {
  connections: number;
  rate: number;
  openConnections: number;
  drivers: number;
  driverShare: number;
  maxPerDriver: number;
}

export interface CreateFigures {
  saturation: LoadResult;
  fixedRate: LoadResult;
  halfSaturation?: LoadResult;
  sent: number;
  created: number;
  /** Share of answered requests that did not get a 201 (any other status, or a transport error). */
  nonCreatedShare: number;
  /** Requests abandoned unanswered at the open loop's drain deadline (not in the share above). */
  abandoned: number;
  invariantViolations: number;
  invariantCheckMs: number;
}

/** The next unused person of the create range, carried across runs so every "new" person is new. */
export interface CreatePeopleState {
  next: number;
}

export const INVARIANT_SQL = `
SELECT count(*) FROM (
  SELECT 1 FROM participants WHERE active
   GROUP BY tenant_id, proxy_number_id, number_bidx HAVING count(*) > 1
) violations`;

export async function measureCreate(
  env: ScenarioEnv,
  people: CreatePeopleState,
  cfg: CreateLoadConfig,
  opts: { halfSaturation: boolean },
): Promise<CreateFigures> {
  const run = async (mode: "closed" | "open", rate = cfg.rate) => {
    const drivers = Array.from({ length: cfg.drivers }, () => person(CREATE_PREFIX, people.next++));
    const result = await runLoad({
      origin: env.origin,
      mode,
      connections: mode === "closed" ? cfg.connections : cfg.openConnections,
      ...(mode === "open" ? { rate } : {}),
      warmupMs: env.timing.warmupMs,
      durationMs: env.timing.durationMs,
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
    });
    people.next = result.factoryState.nextNewPerson ?? people.next;
    return result;
  };
  const saturation = await withDbWork(env.db, () => run("closed"));
  const fixedRate = await run("open");
  const halfSaturation = opts.halfSaturation ? await run("open", halfOf(saturation)) : undefined;
  const runs = [saturation, fixedRate, ...(halfSaturation ? [halfSaturation] : [])];
  const t0 = performance.now();
  const invariantViolations = await scalar<number>(env.db, INVARIANT_SQL);
  const invariantCheckMs = Math.round(performance.now() - t0);
  const sent = runs.reduce((n, r) => n + (r.allAttempts ?? r.totals).sent, 0);
  const created = runs.reduce((n, r) => n + (r.allAttempts ?? r.totals).ok, 0);
  const abandoned = runs.reduce((n, r) => n + (r.allAttempts ?? r.totals).abandoned, 0);
  const answered = sent - abandoned;
  return {
    saturation,
    fixedRate,
    ...(halfSaturation ? { halfSaturation } : {}),
    sent,
    created,
    nonCreatedShare: answered === 0 ? 0 : (answered - created) / answered,
    abandoned,
    invariantViolations,
    invariantCheckMs,
  };
}
