/**
 * The load generator: undici's Pool driven two ways.
 *
 * - closed loop (saturation): `connections` workers, each sends its next request when the previous reply arrives.
 *   Throughput is the served replies completed inside the measured window.
 * - open loop (latency at an offered rate): request i is due at t0 + i/rate whatever happened before. Latency is
 *   measured from the *scheduled* time, so when the server (or a connection) stalls, every request that should have
 *   been sent meanwhile is charged the wait: no coordinated omission. `schedulerLagMs` reports how late the generator
 *   itself was in sending, so a saturated generator is visible rather than silently flattering the figures.
 *
 * `runLoad` runs the generator in its own process (loadgen-child.ts), so the orchestrator's heap (preload data)
 * and event loop cannot pause it.
 */
import { fork } from "node:child_process";
import { Pool } from "undici";
import { buildFactory, type RequestSpec } from "./requests.js";
import { cpuDelta, cpuSnapshot, setCpuRole, waitForQuiet, type CpuGroup, type CpuSnapshot } from "./cpu.js";

export interface LoadSpec {
  origin: string;
  mode: "closed" | "open";
  /** Closed: concurrency. Open: the most connections the pool may open. */
  connections: number;
  /** Open loop only: offered requests per second. */
  rate?: number;
  /** Measured window. */
  durationMs: number;
  /** Run before the window at the same load, not recorded (connections, JIT, caches). */
  warmupMs: number;
  timeoutMs: number;
  requests: RequestSpec;
}

export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

export interface LoadResult {
  mode: "closed" | "open";
  connections: number;
  offeredRate: number | null;
  windowMs: number;
  /** Requests sent that belong to the measured window. */
  sent: number;
  /** Replies (any status) received for them. */
  completed: number;
  /** Replies with the scenario's success status (200 / 201) per second of window. */
  okPerSecond: number;
  /** All replies per second of window. */
  repliesPerSecond: number;
  statusCounts: Record<string, number>;
  /** Replies that failed the scenario's check (no <Dial> in a 200, or not a 201), among `checked`. */
  checked: number;
  checkFailures: number;
  failureSamples: string[];
  /** Transport errors and timeouts. */
  errors: number;
  /** Open loop: requests still unanswered at the drain deadline (their waits so far are in the latencies). */
  unfinished: number;
  errorSamples: string[];
  latencyMs: LatencySummary;
  schedulerLagMs: { p99: number; max: number } | null;
  /**
   * Open loop: the window cut into 250 ms slices (by scheduled time), with each slice's worst latency (ms). Slow
   * requests that cluster in a few slices point at pauses (GC, a batch flush, a checkpoint) rather than queueing.
   */
  sliceMaxMs?: number[];
  /** Everything sent during the run, warm-up and stragglers included (what the server must have recorded). */
  totals: { sent: number; replies: number; ok: number; errors: number; abandoned: number };
  factoryState: Record<string, number>;
  /** How many times the load was run (a skewed run is repeated), and what all attempts together sent. */
  attempts?: number;
  allAttempts?: LoadResult["totals"];
  /** Database work per request sent (saturation runs): see dbstats.ts. */
  dbPerRequest?: Record<string, number>;
  /** The server's peak VmRSS during this load (MiB). */
  serverRssPeakMiB?: number;
  /** The measured window on the system's monotonic clock, µs (what V8 CPU profiles time-stamp with). */
  monotonicWindowUs: [number, number];
  /** CPU seconds used per process group during the measured window, and per reply of the window in ms. */
  cpu?: {
    seconds: Record<CpuGroup, number>;
    msPerReply: Record<CpuGroup, number>;
    /** Cores used by processes outside the bench during the run (another test run on the machine skews figures). */
    otherCores: number;
    /** How long the run waited for the machine to be quiet before starting, and the background load then. */
    quiet: { waitedMs: number; otherCores: number };
  };
}

class Samples {
  private data = new Float64Array(1 << 16);
  length = 0;
  push(v: number) {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = v;
  }
  sorted(): Float64Array {
    return this.data.slice(0, this.length).sort();
  }
}

function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[idx]!;
}

const r3 = (n: number) => Math.round(n * 1000) / 1000;

function summarise(samples: Samples): LatencySummary {
  const s = samples.sorted();
  let sum = 0;
  for (const v of s) sum += v;
  return {
    p50: r3(quantile(s, 0.5)),
    p90: r3(quantile(s, 0.9)),
    p99: r3(quantile(s, 0.99)),
    p999: r3(quantile(s, 0.999)),
    max: r3(s.length ? s[s.length - 1]! : Number.NaN),
    mean: r3(s.length ? sum / s.length : Number.NaN),
  };
}

/** Runs one load in this process. */
export async function runLoadInProcess(spec: LoadSpec, onMark?: (mark: "start" | "end") => void): Promise<LoadResult> {
  const factory = buildFactory(spec.requests);
  const pool = new Pool(spec.origin, {
    connections: spec.connections,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    headersTimeout: spec.timeoutMs,
    bodyTimeout: spec.timeoutMs,
  });
  const latencies = new Samples();
  const SLICE_MS = 250;
  const sliceMax = new Array<number>(Math.ceil(spec.durationMs / SLICE_MS)).fill(0);
  const lags = new Samples();
  const statusCounts: Record<string, number> = {};
  const failureSamples: string[] = [];
  const errorSamples: string[] = [];
  let sent = 0;
  let completed = 0;
  let ok = 0;
  let checked = 0;
  let checkFailures = 0;
  let errors = 0;
  const totals = { sent: 0, replies: 0, ok: 0, errors: 0, abandoned: 0 };
  let abandoned = false;
  let unfinished = 0;

  const t0 = performance.now();
  const monoAtT0 = Number(process.hrtime.bigint() / 1000n);
  const windowStart = t0 + spec.warmupMs;
  const windowEnd = windowStart + spec.durationMs;
  // Tell the parent when the measured window starts and ends, so it can account CPU to exactly that window.
  if (onMark) {
    setTimeout(() => onMark("start"), spec.warmupMs);
    setTimeout(() => onMark("end"), spec.warmupMs + spec.durationMs);
  }

  /** Sends one request; `from` is when its latency starts counting; `record` says whether it is in the window. */
  const one = async (from: number, record: boolean): Promise<void> => {
    const req = factory.next();
    if (record) sent++;
    totals.sent++;
    try {
      const res = await pool.request({ path: req.path, method: "POST", headers: req.headers, body: req.body });
      const body = await res.body.text();
      const done = performance.now();
      totals.replies++;
      if (res.statusCode === factory.okStatus) totals.ok++;
      // Closed loop: only replies completed inside the window count. Open loop: every request scheduled in the
      // window counts, however late its reply (that lateness is the point).
      const counted = spec.mode === "open" ? record : record && done <= windowEnd;
      if (!counted) return;
      completed++;
      latencies.push(done - from);
      if (spec.mode === "open") {
        const slice = Math.floor((from - windowStart) / SLICE_MS);
        if (slice >= 0 && slice < sliceMax.length) sliceMax[slice] = Math.max(sliceMax[slice]!, done - from);
      }
      const key = String(res.statusCode);
      statusCounts[key] = (statusCounts[key] ?? 0) + 1;
      if (res.statusCode === factory.okStatus) ok++;
      checked++;
      if (!factory.check(res.statusCode, body)) {
        checkFailures++;
        if (failureSamples.length < 5) failureSamples.push(`${res.statusCode} ${body.slice(0, 300)}`);
      }
    } catch (err) {
      if (abandoned) {
        totals.abandoned++;
        // Still unanswered when the drain deadline passed: its latency is at least this long.
        if (record) {
          unfinished++;
          latencies.push(performance.now() - from);
        }
        return;
      }
      totals.errors++;
      if (!record) return;
      errors++;
      if (errorSamples.length < 5) errorSamples.push(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
    }
  };

  if (spec.mode === "closed") {
    const worker = async () => {
      for (;;) {
        const start = performance.now();
        if (start >= windowEnd) return;
        await one(start, start >= windowStart);
      }
    };
    await Promise.all(Array.from({ length: spec.connections }, worker));
  } else {
    const rate = spec.rate ?? 0;
    if (!(rate > 0)) throw new Error("open-loop load needs a rate");
    const interval = 1000 / rate;
    const total = Math.floor(((spec.warmupMs + spec.durationMs) * rate) / 1000);
    const inflight = new Set<Promise<void>>();
    let i = 0;
    await new Promise<void>((resolve) => {
      const tick = () => {
        const now = performance.now();
        while (i < total && t0 + i * interval <= now) {
          const due = t0 + i * interval;
          const record = due >= windowStart;
          if (record) lags.push(now - due);
          const p = one(due, record);
          inflight.add(p);
          void p.finally(() => inflight.delete(p));
          i++;
        }
        if (i >= total) return resolve();
        // Sleep until the next request is due (timers fire late by ~1 ms; lateness is caught up in the loop above).
        setTimeout(tick, Math.max(0, t0 + i * interval - performance.now()));
      };
      tick();
    });
    // An overloaded server leaves a backlog; wait for it a bounded time, then abandon what is left (counted as
    // unfinished, each with the time it had waited so far as its latency: a lower bound, never flattering).
    const drainMs = Math.max(2_000, spec.durationMs / 2);
    const drained = await Promise.race([
      Promise.all([...inflight]).then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), drainMs).unref()),
    ]);
    if (!drained) {
      abandoned = true;
      await pool.destroy();
      await Promise.all([...inflight]);
    }
  }
  if (!abandoned) await pool.close();
  // The window's end mark must go out before the result (the last request can be done before the window ends).
  const left = windowEnd - performance.now();
  if (left > 0) await new Promise((resolve) => setTimeout(resolve, left + 5));

  const windowMs = spec.durationMs;
  const lagSorted = lags.sorted();
  return {
    mode: spec.mode,
    connections: spec.connections,
    offeredRate: spec.mode === "open" ? (spec.rate ?? null) : null,
    windowMs,
    sent,
    completed,
    okPerSecond: Math.round((ok * 1000) / windowMs),
    repliesPerSecond: Math.round((completed * 1000) / windowMs),
    statusCounts,
    checked,
    checkFailures,
    failureSamples,
    errors,
    errorSamples,
    unfinished,
    latencyMs: summarise(latencies),
    schedulerLagMs: spec.mode === "open" ? { p99: r3(quantile(lagSorted, 0.99)), max: r3(lagSorted.length ? lagSorted[lagSorted.length - 1]! : 0) } : null,
    totals,
    ...(spec.mode === "open" ? { sliceMaxMs: sliceMax.map((v) => Math.round(v * 10) / 10) } : {}),
    factoryState: factory.state(),
    monotonicWindowUs: [Math.round(monoAtT0 + spec.warmupMs * 1000), Math.round(monoAtT0 + (spec.warmupMs + spec.durationMs) * 1000)],
  };
}

/** Background load (cores) above which a run is considered skewed and repeated once. */
export const SKEWED_OTHER_CORES = 0.2;
let repeatsLeft = Number(process.env.BENCH_MAX_REPEATS ?? 4);
let serverRssProbe: (() => number) | undefined;
/** A probe returning the server's peak VmRSS since the previous call (MiB); each load reports its own peak. */
export function setServerRssProbe(probe: () => number): void {
  serverRssProbe = probe;
}

/**
 * Runs one load in a separate load-generator process. A run during which processes outside the bench used more than
 * SKEWED_OTHER_CORES is repeated once (a few times per bench run at most) and the cleaner attempt kept;
 * `allAttempts` sums what every attempt sent, for accounting against the database (call rows, sessions).
 */
export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  serverRssProbe?.();
  let result = await runLoadOnce(spec);
  result.serverRssPeakMiB = serverRssProbe?.();
  const all = { ...result.totals };
  let attempts = 1;
  if ((result.cpu?.otherCores ?? 0) > SKEWED_OTHER_CORES && repeatsLeft > 0) {
    repeatsLeft--;
    const again = await runLoadOnce(spec);
    again.serverRssPeakMiB = serverRssProbe?.();
    attempts++;
    for (const k of Object.keys(all) as Array<keyof typeof all>) all[k] += again.totals[k];
    if ((again.cpu?.otherCores ?? 0) < (result.cpu?.otherCores ?? 0)) result = again;
  }
  return { ...result, attempts, allAttempts: all };
}

async function runLoadOnce(spec: LoadSpec): Promise<LoadResult> {
  const quiet = await waitForQuiet();
  return new Promise((resolve, reject) => {
    let startedAt = 0;
    let after: CpuSnapshot | undefined;
    let endedAt = 0;
    const child = fork(new URL("./loadgen-child.ts", import.meta.url).pathname, [], {
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    let result: LoadResult | undefined;
    let before: CpuSnapshot | undefined;
    const kill = () => child.kill("SIGTERM");
    process.once("exit", kill);
    if (child.pid !== undefined) setCpuRole(child.pid, "loadgen");
    child.on("message", (msg: { ready?: boolean; mark?: "start" | "end"; result?: LoadResult; error?: string }) => {
      if (msg.ready) child.send(spec);
      else if (msg.mark === "start") {
        before = cpuSnapshot();
        startedAt = performance.now();
      } else if (msg.mark === "end") {
        after = cpuSnapshot();
        endedAt = performance.now();
      } else if (msg.error) reject(new Error(`load generator: ${msg.error}`));
      else if (msg.result) {
        result = msg.result;
        if (before && after) {
          const seconds = cpuDelta(before, after);
          const replies = Math.max(1, result.completed);
          const msPerReply = Object.fromEntries(
            Object.entries(seconds).map(([k, v]) => [k, Math.round(((v * 1000) / replies) * 1000) / 1000]),
          ) as Record<CpuGroup, number>;
          const wallS = (endedAt - startedAt) / 1000;
          result.cpu = { seconds, msPerReply, otherCores: Math.round((seconds.other / wallS) * 100) / 100, quiet };
        }
      }
    });
    child.on("error", reject);
    child.on("exit", (code) => {
      process.off("exit", kill);
      if (result) resolve(result);
      else reject(new Error(`load generator exited (${code}) without a result`));
    });
  });
}
