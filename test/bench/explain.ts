/**
 * The routing query as the server runs it (imported from the server's store, so the bench explains exactly what
 * ships), explained at each scale level and timed over random live routes from the bench's own connection.
 */
import type pg from "pg";
import type { Keyring } from "../../server/src/crypto/keyring.js";
import type { BenchTenant } from "./setup.js";

export interface RoutingQueryFigures {
  plan: string[];
  executionMs: number | null;
  planningMs: number | null;
  /**
   * Client-side round trip of the query alone over `samples` random live routes, sequential, on an otherwise idle
   * connection: as an unnamed statement (parsed and planned on every call, as knex.raw sends it), and as a named
   * prepared statement (parsed once; Postgres may switch to a cached generic plan after five executions).
   */
  samples: number;
  meanMs: number;
  p99Ms: number;
  preparedMeanMs: number;
  preparedP99Ms: number;
  /** Routes that resolved to a live session, of 2 × samples (every preloaded route should). */
  found: number;
}

/** `:name` bindings (knex raw) → `$n` (pg); the names are collected in order of first use. */
function positional(sql: string, names: string[]): string {
  return sql.replace(/(?<!:):([A-Za-z_]\w*)/g, (_, name: string) => {
    let i = names.indexOf(name);
    if (i === -1) i = names.push(name) - 1;
    return `$${i + 1}`;
  });
}

// Which value a `<column> = $n` placeholder takes, for SQL that is already positional.
const COLUMN_TO_NAME: Record<string, string> = { number_bidx: "callerBidx", tenant_id: "tenantId", app_id: "appId", e164: "did" };

/** The SQL with `$n` placeholders and the binding name of each placeholder, whichever style the server uses. */
export function routingStatement(sql: string): { text: string; names: string[] } {
  if (!/\$\d/.test(sql)) {
    const names: string[] = [];
    return { text: positional(sql, names), names };
  }
  const names: string[] = [];
  for (const m of sql.matchAll(/(\w+)\s*=\s*\$(\d+)/g)) {
    const name = COLUMN_TO_NAME[m[1]!];
    if (!name) throw new Error(`cannot tell what $${m[2]} (${m[1]}) binds to in the routing query`);
    names[Number(m[2]) - 1] = name;
  }
  return { text: sql, names };
}

export async function measureRoutingQuery(
  db: pg.Client,
  keys: Keyring,
  tenant: BenchTenant,
  routes: Array<[string, string]>,
  samples: number,
): Promise<RoutingQueryFigures | { skipped: string }> {
  const modulePath = "../../server/src/stores/routing.js";
  const mod = (await import(modulePath).catch(() => ({}))) as { ACTIVE_ROUTE_SQL?: unknown };
  if (typeof mod.ACTIVE_ROUTE_SQL !== "string") return { skipped: "server/src/stores/routing.ts exports no ACTIVE_ROUTE_SQL" };
  const { text: sql, names } = routingStatement(mod.ACTIVE_ROUTE_SQL);
  const paramsFor = ([from, did]: [string, string]) => {
    const values: Record<string, string> = { tenantId: tenant.tenantId, appId: tenant.appId, did, callerBidx: keys.blindIndex(from) };
    return names.map((n) => values[n] ?? null);
  };
  const pick = () => routes[Math.floor(Math.random() * routes.length)]!;

  const explained = await db.query(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, paramsFor(pick()));
  const plan = explained.rows.map((r: Record<string, string>) => String(Object.values(r)[0]));
  const num = (re: RegExp) => {
    const m = plan.map((l) => re.exec(l)).find(Boolean);
    return m ? Number(m[1]) : null;
  };

  const r3 = (n: number) => Math.round(n * 1000) / 1000;
  let found = 0;
  const timeIt = async (prepared: boolean) => {
    const times: number[] = [];
    for (let i = 0; i < samples; i++) {
      const values = paramsFor(pick());
      const t0 = performance.now();
      const res = await (prepared ? db.query({ name: "bench-route", text: sql, values }) : db.query(sql, values));
      times.push(performance.now() - t0);
      if (res.rows.length > 0) found++;
    }
    times.sort((a, b) => a - b);
    return {
      mean: r3(times.reduce((a, b) => a + b, 0) / Math.max(1, times.length)),
      p99: r3(times[Math.min(times.length - 1, Math.ceil(0.99 * times.length) - 1)] ?? Number.NaN),
    };
  };
  const unnamed = await timeIt(false);
  const prepared = await timeIt(true);
  return {
    plan,
    executionMs: num(/Execution Time: ([\d.]+) ms/),
    planningMs: num(/Planning Time: ([\d.]+) ms/),
    samples,
    meanMs: unnamed.mean,
    p99Ms: unnamed.p99,
    preparedMeanMs: prepared.mean,
    preparedP99Ms: prepared.p99,
    found,
  };
}
