/**
 * The service's Prometheus metrics (`GET /metrics`, docs/operating.md "Metrics"): one prom-client registry per app
 * instance (so two in one process, as in the tests, never mix), created with the deps and passed to whoever counts.
 *
 * Labels are bounded and never personal: operation ids and statuses from the spec, decisions and outcomes from its
 * enums, SQLSTATE classes, job kinds, and for pools the tenant id and the pool's name (a name a tenant typed, run
 * through the log scrubber so a pool named after a phone number is shown masked). No phone number, ever.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export interface Metrics {
  readonly registry: Registry;
  /** Every HTTP request, by the spec's operation id (`unmatched` for paths the spec has not), method and status. */
  readonly httpRequests: Counter<"operation" | "method" | "status">;
  readonly httpDuration: Histogram<"operation">;
  /** What calls were decided: `bridged`, a `rejected_*` reason, `pending` (PIN prompt), `unavailable`; by flow. */
  readonly callDecisions: Counter<"decision" | "flow">;
  /** Answers that ran out of their time budget and got the polite "unavailable" (the call path's SLO). */
  readonly answerDeadlineMisses: Counter<"endpoint">;
  /** Failures of the dependencies: kv (Redis) by operation, the database by SQLSTATE class or connection error. */
  readonly dependencyErrors: Counter<"dependency" | "kind">;
  readonly eventDeliveries: Counter<"outcome">;
  /** Jobs waiting or running, and how long the oldest due one has waited: set on each scrape. */
  readonly jobsQueued: Gauge<"kind" | "status">;
  readonly jobsOldestDueSeconds: Gauge<"kind">;
  /** Pool sizing (services/pools.ts) of the fullest pools across tenants, from the `metrics.pools` job's table. */
  readonly poolHeadroom: Gauge<"tenant_id" | "pool">;
  readonly poolUtilisation: Gauge<"tenant_id" | "pool">;
  readonly poolPinHeadroom: Gauge<"tenant_id" | "pool">;
  /** Pools across tenants: all of them, those with no headroom, those at 80 % or more. */
  readonly pools: Gauge<"state">;
  /** Age of the oldest pool figure: the job that keeps them is behind when this grows past a few minutes. */
  readonly poolFiguresAge: Gauge;
}

/** Request latencies of a service answering in milliseconds, up to the 30 s a request may take at all. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function createMetrics(): Metrics {
  const registry = new Registry();
  // Process CPU, memory, event-loop lag and GC: what a replica's health is read from.
  collectDefaultMetrics({ register: registry, prefix: "maskline_" });
  const registers = [registry];
  return Object.freeze({
    registry,
    httpRequests: new Counter({
      name: "maskline_http_requests_total",
      help: "HTTP requests answered, by the OpenAPI operation id, method and status.",
      labelNames: ["operation", "method", "status"] as const,
      registers,
    }),
    httpDuration: new Histogram({
      name: "maskline_http_request_duration_seconds",
      help: "Time from a request's arrival to its answer, by the OpenAPI operation id.",
      labelNames: ["operation"] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    callDecisions: new Counter({
      name: "maskline_call_decisions_total",
      help: "Calls decided, by decision and by flow (answer, pin, placed).",
      labelNames: ["decision", "flow"] as const,
      registers,
    }),
    answerDeadlineMisses: new Counter({
      name: "maskline_answer_deadline_misses_total",
      help: "Callers answered with the polite 'unavailable' because a dependency did not answer within the time budget.",
      labelNames: ["endpoint"] as const,
      registers,
    }),
    dependencyErrors: new Counter({
      name: "maskline_dependency_errors_total",
      help: "Errors from Redis (kv, by operation) and Postgres (database, by SQLSTATE class, or 'connection').",
      labelNames: ["dependency", "kind"] as const,
      registers,
    }),
    eventDeliveries: new Counter({
      name: "maskline_event_deliveries_total",
      help: "Event delivery attempts to tenants' webhook endpoints, by outcome.",
      labelNames: ["outcome"] as const,
      registers,
    }),
    jobsQueued: new Gauge({
      name: "maskline_jobs",
      help: "Background jobs not finished, by kind and status (queued, failed awaiting retry, running).",
      labelNames: ["kind", "status"] as const,
      registers,
    }),
    jobsOldestDueSeconds: new Gauge({
      name: "maskline_jobs_oldest_due_seconds",
      help: "How long the oldest due, unclaimed job of each kind has waited past its run time.",
      labelNames: ["kind"] as const,
      registers,
    }),
    poolHeadroom: new Gauge({
      name: "maskline_pool_headroom",
      help: "How many more concurrent sessions the busiest person of the pool could join (DIDs minus their sessions).",
      labelNames: ["tenant_id", "pool"] as const,
      registers,
    }),
    poolUtilisation: new Gauge({
      name: "maskline_pool_utilisation",
      help: "The busiest person's sessions over the pool's DIDs (1: someone is at the limit).",
      labelNames: ["tenant_id", "pool"] as const,
      registers,
    }),
    poolPinHeadroom: new Gauge({
      name: "maskline_pool_pin_headroom",
      help: "How many more PIN sessions the pool's PIN space can carry.",
      labelNames: ["tenant_id", "pool"] as const,
      registers,
    }),
    pools: new Gauge({
      name: "maskline_pools",
      help: "Pools across tenants, by state: all, exhausted (no headroom), nearly_exhausted (utilisation 0.8 or more).",
      labelNames: ["state"] as const,
      registers,
    }),
    poolFiguresAge: new Gauge({
      name: "maskline_pool_figures_age_seconds",
      help: "Age of the oldest pool figure behind the pool gauges (refreshed by the metrics.pools job every minute).",
      registers,
    }),
  });
}
