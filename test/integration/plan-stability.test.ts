/**
 * Hardening finding 5: the hot statements must cost the same on a database that grew from empty without ANALYZE
 * as on a small one. They run as named prepared statements, and Postgres keeps a generic plan per connection after
 * five executions, made from what it knew then (tables of a few rows, no statistics) and never revisited.
 *
 * So, on one connection of a database of its own (the shared test database carries the other files' data and
 * statistics, which would hide the effect): run the answer and allocation statements through the real stores
 * while the tables are tiny, grow them to tens of thousands of rows without ANALYZE (autovacuum off for these
 * tables, whatever the server's setting), then EXPLAIN (ANALYZE, BUFFERS) EXECUTE the very same prepared
 * statements on that connection: whatever plan they kept must still be key probes (no sequential scan, a handful
 * of rows and buffers per statement), not a scan of the tenant's sessions or participants.
 *
 * Real Postgres only: the embedded PGlite runs these statements unprepared (see server/src/db/prepared.ts).
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase, migrateLatest, type Db } from "../../server/src/db/database.js";
import { preparedQuery } from "../../server/src/db/prepared.js";
import * as routing from "../../server/src/stores/routing.js";
import * as sessions from "../../server/src/stores/sessions.js";
import { testDatabaseUrl } from "../support/env.js";

const TENANT = "ten_plans";
const APP = "app_plans";
const DIDS = 100;
/** Sessions added after the plans were cached (two participants and one call row each). */
const GROWN_SESSIONS = 20_000;
/**
 * Per statement. Key probes touch a few index and heap pages each (≈ 20–30 buffers for the longest statement);
 * the plans this replaced read thousands at this size (a scan of the tenant's open sessions or active participants).
 */
const MAX_BUFFERS = 100;
/** A key-probe statement takes a millisecond; this only turns a runaway plan into an error instead of a hang. */
const STATEMENT_TIMEOUT = "5s";
/** Rows any single scan node may read (returned + removed by a filter, over all its loops). */
const MAX_ROWS_PER_SCAN = 20;

const did = (i: number) => `+9190${String(i).padStart(8, "0")}`;
const didId = (i: number) => `num_${String(i).padStart(4, "0")}`;
const person = (name: string) => `bidx_${name}`;

type Plan = Record<string, unknown> & { Plans?: Plan[] };

interface PlanShape {
  buffers: number;
  seqScans: string[];
  /** Scan nodes that read more than MAX_ROWS_PER_SCAN rows, as "<node> <relation/index>: <rows>". */
  wideScans: string[];
  text: string;
}

function shapeOf(explained: { Plan: Plan }): PlanShape {
  const seqScans: string[] = [];
  const wideScans: string[] = [];
  const lines: string[] = [];
  const visit = (node: Plan, depth: number) => {
    const type = String(node["Node Type"]);
    const target = String(node["Index Name"] ?? node["Relation Name"] ?? "");
    const loops = Number(node["Actual Loops"] ?? 0);
    const read = (Number(node["Actual Rows"] ?? 0) + Number(node["Rows Removed by Filter"] ?? 0)) * loops;
    lines.push(`${"  ".repeat(depth)}${type} ${target} rows read ${read}`);
    if (type === "Seq Scan") seqScans.push(target);
    if (/Scan$/.test(type) && target !== "" && read > MAX_ROWS_PER_SCAN) wideScans.push(`${type} ${target}: ${read}`);
    for (const child of node.Plans ?? []) visit(child, depth + 1);
  };
  visit(explained.Plan, 0);
  // The top node's counters include everything below it.
  const buffers = Number(explained.Plan["Shared Hit Blocks"] ?? 0) + Number(explained.Plan["Shared Read Blocks"] ?? 0);
  return { buffers, seqScans, wideScans, text: lines.join("\n") };
}

const literal = (v: unknown) => {
  if (v === null || v === undefined) return "NULL";
  const s = v instanceof Date ? v.toISOString() : String(v);
  return `'${s.replace(/'/g, "''")}'`;
};

describe.skipIf(!testDatabaseUrl)("hot statements keep their cost as a new database fills (no ANALYZE)", () => {
  const databaseName = `maskline_plans_${process.pid}_${randomBytes(4).toString("hex")}`;
  let admin: pg.Client;
  let db: Db;
  /** The values each named statement was last sent with, as the store built them. */
  const sent = new Map<string, unknown[]>();
  let backendPid: number;

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: testDatabaseUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${databaseName}`);
    const url = new URL(testDatabaseUrl!);
    url.pathname = `/${databaseName}`;
    // One connection: every statement, and the EXPLAIN EXECUTE of it, runs on the backend holding its plan.
    // Never retired (server/src/db/connection-lifetime.ts retires young connections so plans are remade as tables
    // fill): this test holds the statements to the worst case, plans made while the tables were tiny, kept for good.
    db = await createDatabase({ databaseUrl: url.toString(), dataDir: ".", poolMax: 1, connectionLifetimeMs: () => 24 * 3600_000 });
    await migrateLatest(db);
    // Whatever the server's autovacuum setting: no statistics may appear behind the test's back.
    const tables = (await db.raw(`SELECT quote_ident(tablename) AS name FROM pg_tables WHERE schemaname = 'public'`)).rows as Array<{ name: string }>;
    for (const { name } of tables) await db.raw(`ALTER TABLE ${name} SET (autovacuum_enabled = false)`);
    const client = db.client as unknown as {
      acquireConnection(): Promise<{ query: (...args: unknown[]) => unknown }>;
      releaseConnection(c: unknown): Promise<void>;
    };
    const connection = await client.acquireConnection();
    const query = connection.query.bind(connection);
    connection.query = (config: unknown, ...rest: unknown[]) => {
      const c = config as { name?: string; values?: unknown[] } | null;
      if (c && typeof c === "object" && c.name) sent.set(c.name, c.values ?? []);
      return query(config, ...rest);
    };
    await client.releaseConnection(connection);
    backendPid = (await db.raw("SELECT pg_backend_pid() AS pid")).rows[0].pid;

    await db.raw(`INSERT INTO tenants (id, name) VALUES (?, 'plans')`, [TENANT]);
    await db.raw(`INSERT INTO apps (id, tenant_id, name, vobiz_auth_id, auth_token_enc, url_secret) VALUES (?, ?, 'plans', 'MA_PLANS', 'x', 'x')`, [APP, TENANT]);
    for (let i = 1; i <= DIDS; i++) {
      await db.raw(`INSERT INTO numbers (id, tenant_id, app_id, e164, pool) VALUES (?, ?, ?, ?, 'default')`, [didId(i), TENANT, APP, did(i)]);
      await db.raw(`INSERT INTO number_claims (e164, tenant_id, number_id) VALUES (?, ?, ?)`, [did(i), TENANT, didId(i)]);
    }
  }, 120_000);

  afterAll(async () => {
    await db?.destroy();
    await admin?.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
    await admin?.end();
  });

  /** One allocation as the create path runs it: read/release, lock the picks, insert the session and pair. */
  async function allocate(seq: number, a: string, b: string, didA: number, didB: number, expiresAt: Date) {
    const now = new Date();
    await db.transaction(async (trx) => {
      await sessions.releaseEndedAndReadPairDids(trx, TENANT, person(a), person(b), now);
      await sessions.lockPickedDids(trx, TENANT, didId(didA), didId(didB));
      const id = `ses_tiny_${seq}`;
      const participant = (position: number, name: string, d: number) => ({
        id: `par_tiny_${seq}_${position}`,
        tenant_id: TENANT,
        session_id: id,
        position,
        label: null,
        number_enc: "enc",
        number_bidx: person(name),
        masked_number: "masked",
        proxy_number_id: didId(d),
        pin_hash: null,
        pin_key_id: null,
      });
      await sessions.insertSessionWithPair(
        trx,
        { id, tenant_id: TENANT, app_id: APP, pool: "default", mode: "two_way", routing: "number", recording: false, reference: null, metadata: {}, created_at: now, expires_at: expiresAt },
        [participant(0, a, didA), participant(1, b, didB)],
      );
    });
  }

  const routeKey = (name: string, d: number): routing.RouteKey => ({ tenantId: TENANT, appId: APP, did: did(d), callerBidx: person(name) });

  /**
   * Grows sessions, participants and calls with plain SQL: no ANALYZE, nothing that would refresh a plan. Ids sort
   * in creation order, as the server's (time-ordered) ids do, so the newest session is the last in every id index.
   */
  async function grow() {
    const later = new Date(Date.now() + 3_600_000);
    await db.raw(
      `INSERT INTO sessions (id, tenant_id, app_id, pool, mode, status, expires_at)
       SELECT 'ses_g' || lpad(g::text, 6, '0'), ?, ?, 'default', 'two_way', 'open', ?::timestamptz FROM generate_series(1, ?::int) g`,
      [TENANT, APP, later, GROWN_SESSIONS],
    );
    await db.raw(
      `INSERT INTO participants (id, tenant_id, session_id, position, number_enc, number_bidx, masked_number, proxy_number_id)
       SELECT 'par_g' || lpad(g::text, 6, '0') || '_' || p, ?, 'ses_g' || lpad(g::text, 6, '0'), p, 'enc', 'bidx_g' || g || '_' || p, 'masked',
              'num_' || lpad(((g * 2 + p) % ?::int + 1)::text, 4, '0')
         FROM generate_series(1, ?::int) g, generate_series(0, 1) p`,
      [TENANT, DIDS, GROWN_SESSIONS],
    );
    await db.raw(
      `INSERT INTO calls (id, tenant_id, app_id, call_uuid, decision, status, reply_enc)
       SELECT 'call_g' || g, ?, ?, 'uuid_g' || g, 'bridged', 'completed', 'enc' FROM generate_series(1, ?::int) g`,
      [TENANT, APP, GROWN_SESSIONS],
    );
    const analyzed = await db.raw(
      `SELECT relname FROM pg_stat_user_tables
        WHERE relname IN ('sessions', 'participants', 'calls') AND (last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL)`,
    );
    expect(analyzed.rows, "no statistics may exist for the grown tables").toEqual([]);
  }

  /**
   * Calls the store once (in a transaction rolled back, so nothing it changes stays) to learn the values it sends
   * for `name`, then explains the prepared statement with them on the same connection, also rolled back.
   */
  async function explainPrepared(name: string, call: (trx: Db) => Promise<unknown>): Promise<PlanShape> {
    const probe = await db.transaction();
    try {
      // The plans this replaced need minutes for one execution at this size (a scan per row of a scan).
      await probe.raw(`SET LOCAL statement_timeout = '${STATEMENT_TIMEOUT}'`);
      await call(probe);
    } finally {
      await probe.rollback();
    }
    const values = sent.get(name);
    expect(values, `the store sent no prepared statement named ${name}`).toBeDefined();
    const trx = await db.transaction();
    try {
      await trx.raw(`SET LOCAL statement_timeout = '${STATEMENT_TIMEOUT}'`);
      const res = await trx.raw(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE ${name}(${values!.map(literal).join(", ")})`);
      return shapeOf((res.rows[0]["QUERY PLAN"] as Array<{ Plan: Plan }>)[0]!);
    } finally {
      await trx.rollback();
    }
  }

  beforeAll(async () => {
    // Tiny: ten sessions, more than five executions of every statement (the plan cache's switch to a generic plan).
    const later = new Date(Date.now() + 3_600_000);
    for (let i = 1; i <= 10; i++) await allocate(i, `tiny_a${i}`, `tiny_b${i}`, i, i + 10, later);
    // A driver with a live session and one about to expire, to be released lazily by the next allocation.
    await allocate(11, "driver", "tiny_c1", 1, 21, later);
    await allocate(12, "driver", "tiny_c2", 2, 22, new Date(Date.now() + 1_000));
    for (let i = 1; i <= 10; i++) {
      await routing.findAnswerRoute(db, routeKey(`tiny_a${i}`, i), `tiny-call-${i}`);
      await routeAlone(db);
      await routing.findEndedRoute(db, routeKey(`tiny_b${i}`, i));
    }
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // the driver's second session has now expired
    await grow();
  }, 120_000);

  /**
   * ACTIVE_ROUTE_SQL on its own, as a prepared statement of this test's: the answer lookup embeds it first, so its
   * placeholders are the lookup's first ones, with the values the store just sent. Separates the route's plan from
   * whatever else the answer lookup joins.
   */
  const routePlaceholders = new Set(routing.ACTIVE_ROUTE_SQL.match(/\$\d+/g)).size;
  async function routeAlone(runner: Db) {
    const values = sent.get("answer_lookup")!.slice(0, routePlaceholders);
    return preparedQuery(runner, "route_alone", routing.ACTIVE_ROUTE_SQL, values);
  }

  /** Still the connection that cached the plans while the tables were tiny, and no more than a few probes. */
  async function expectKeyProbes(name: string, shape: PlanShape) {
    expect((await db.raw("SELECT pg_backend_pid() AS pid")).rows[0].pid).toBe(backendPid);
    const context = `${name} at ${GROWN_SESSIONS.toLocaleString("en-US")} sessions (${shape.buffers} buffers):\n${shape.text}`;
    expect(shape.seqScans, context).toEqual([]);
    expect(shape.wideScans, context).toEqual([]);
    expect(shape.buffers, context).toBeLessThanOrEqual(MAX_BUFFERS);
  }

  // The newest session's first participant (its DID is (g × 2) mod DIDS + 1): a tenant-wide scan in id order
  // would pass every other session before reaching it.
  const grownCaller = () => routeKey(`g${GROWN_SESSIONS}_0`, ((GROWN_SESSIONS * 2) % DIDS) + 1);

  it("the answer lookup (route + this CallUUID's call row) probes keys, not the tenant's sessions or calls", async () => {
    const shape = await explainPrepared("answer_lookup", (trx) => routing.findAnswerRoute(trx, grownCaller(), "uuid_g777"));
    await expectKeyProbes("answer_lookup", shape);
  });

  it("the routing query alone probes keys, not the tenant's open sessions", async () => {
    const shape = await explainPrepared("route_alone", async (trx) => {
      await routing.findAnswerRoute(trx, grownCaller(), "uuid_g777");
      expect((await routeAlone(trx)).rows, "the grown caller has a live route").toHaveLength(1);
    });
    await expectKeyProbes("route_alone", shape);
  });

  it("the reject path's ended-route lookup walks one person's history only", async () => {
    const shape = await explainPrepared("route_ended", (trx) => routing.findEndedRoute(trx, grownCaller()));
    await expectKeyProbes("route_ended", shape);
  });

  it("the allocator's read-and-release reads the two people's rows only (an expired session released on the way)", async () => {
    const shape = await explainPrepared("alloc_pair_dids", (trx) =>
      sessions.releaseEndedAndReadPairDids(trx, TENANT, person("driver"), person(`g${GROWN_SESSIONS - 1}_1`), new Date()),
    );
    await expectKeyProbes("alloc_pair_dids", shape);
    expect(shape.text, "the driver's expired session was released").toMatch(/ModifyTable participants/);
  });

  it("the allocator's DID lock probes the two DIDs by primary key", async () => {
    const shape = await explainPrepared("alloc_lock_dids", (trx) => sessions.lockPickedDids(trx, TENANT, didId(37), didId(73)));
    await expectKeyProbes("alloc_lock_dids", shape);
  });
});
