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
 * loadgen-runner.ts runs it in its own process (loadgen-child.ts), so the orchestrator's heap (preload data) and
 * event loop cannot pause it.
 */
import { Pool } from "undici";
import { buildFactory, type RequestSpec } from "./requests.js";
import type { CpuGroup } from "./cpu.js";

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
  /** Per table (pg_stat_user_tables), per request sent: scans and rows read, rows inserted. */
  tablesPerRequest?: Record<string, Record<string, number>>;
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
    /**
     * Share of the window the server's event-loop thread was runnable but waiting for a core (/proc/<pid>/schedstat):
     * time every request in progress was delayed by the machine, not by the server's code.
     */
    serverRunQueueWaitShare: number;
    /** Seconds Postgres processes (main threads) spent waiting for a core during the window, summed. */
    postgresRunQueueWaitSeconds: number;
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
  let windowMarked: Promise<void> = Promise.resolve();
  if (onMark) {
    setTimeout(() => onMark("start"), spec.warmupMs);
    windowMarked = new Promise((resolve) =>
      setTimeout(() => {
        onMark("end");
        resolve();
      }, spec.warmupMs + spec.durationMs),
    );
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
  await windowMarked;

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
