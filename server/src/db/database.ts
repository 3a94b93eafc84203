import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import knexFactory, { type Knex } from "knex";
import pg from "pg";
import { migrationSource } from "../../../migrations/index.js";
import { auditStatements } from "./statement-audit.js";
import { connectionLifetimeMs } from "./connection-lifetime.js";

export type Db = Knex;

// Postgres returns bigint counts as strings; our counts fit comfortably in a JS number.
pg.types.setTypeParser(20, (v) => Number.parseInt(v, 10));

// Every wait on Postgres is bounded, so a request fails (503, see http/errors.ts) instead of hanging: opening a
// connection gives up after CONNECT_TIMEOUT_MS (below knex's acquire timeout, so the pg error is what surfaces), and a
// query whose answer has not arrived after QUERY_TIMEOUT_MS is abandoned client-side (pg's query_timeout, for a server
// or network that went silent). The server is told the same limit (statement_timeout), so it stops the work too and
// the connection is free again, rather than busy with a query nobody waits for. The migrator runs on its own knex
// without either: an index build may rightly take longer.
const CONNECT_TIMEOUT_MS = 3_000;
const QUERY_TIMEOUT_MS = 30_000;

export interface DatabaseOptions {
  databaseUrl: string | undefined;
  dataDir: string;
  poolMax: number;
  /** pg's connectionTimeoutMillis; default CONNECT_TIMEOUT_MS (tests shorten it). */
  connectTimeoutMs?: number;
  /** pg's client-side query_timeout and the server's statement_timeout; default QUERY_TIMEOUT_MS (tests shorten it). */
  queryTimeoutMs?: number;
  /** A connection's lifetime from the pool's age when it opened; default connectionLifetimeMs (tests shorten it). */
  connectionLifetimeMs?: (poolAgeMs: number) => number;
}

const RETIRE_AT = Symbol("retireAt");

/**
 * Pool hooks that retire each connection at the end of its lifetime (db/connection-lifetime.ts says why): stamped
 * when opened, refused by the pool's validation on the first acquire after it, closed and replaced by a fresh one.
 * A connection in use is never interrupted: validation only runs when the pool hands one out.
 */
function retiringConnections(lifetime: (poolAgeMs: number) => number = connectionLifetimeMs) {
  const poolStartedAt = performance.now();
  return {
    afterCreate(connection: Record<symbol, number>, done: (err: Error | null, connection: unknown) => void) {
      const now = performance.now();
      connection[RETIRE_AT] = now + lifetime(now - poolStartedAt);
      done(null, connection);
    },
    validate(connection: Record<symbol, number>) {
      return !(performance.now() >= (connection[RETIRE_AT] ?? Infinity));
    },
  };
}

/**
 * knex over `pg` when DATABASE_URL is set; otherwise the embedded PGlite in `<dataDir>/pgdata`. PGlite (a
 * WebAssembly Postgres) is loaded only in embedded mode, so a server on real Postgres never carries it.
 */
export async function createDatabase(opts: DatabaseOptions): Promise<Db> {
  if (opts.databaseUrl) {
    return audited(knexFactory({
      client: "pg",
      connection: {
        connectionString: opts.databaseUrl,
        application_name: "maskline",
        connectionTimeoutMillis: opts.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
        query_timeout: opts.queryTimeoutMs ?? QUERY_TIMEOUT_MS,
        statement_timeout: opts.queryTimeoutMs ?? QUERY_TIMEOUT_MS,
      },
      pool: { min: 0, max: opts.poolMax, idleTimeoutMillis: 30_000, ...retiringConnections(opts.connectionLifetimeMs) },
      acquireConnectionTimeout: 5_000,
    }));
  }
  const dir = resolve(opts.dataDir, "pgdata");
  mkdirSync(dir, { recursive: true });
  const { default: ClientPgLite } = await import("knex-pglite");
  return audited(knexFactory({ client: ClientPgLite as unknown as typeof Knex.Client, dialect: "postgres", connection: { filename: dir } }));
}

/** Every statement is offered to the SQL audit (db/statement-audit.ts), which only listens in the test suites. */
function audited(db: Db): Db {
  auditStatements(db);
  return db;
}

/**
 * The same database without the query timeouts, on one connection of its own; `db` itself when it has none (the
 * embedded PGlite). The caller destroys it when it is not `db`.
 */
function withoutQueryTimeout(db: Db): Db {
  const config = (db.client as { config: Knex.Config }).config;
  const connection = config.connection;
  if (connection === null || typeof connection !== "object" || !("query_timeout" in connection)) return db;
  const { query_timeout: _client, statement_timeout: _server, ...rest } = connection as Record<string, unknown>;
  return knexFactory({ ...config, connection: rest as Knex.StaticConnectionConfig, pool: { min: 0, max: 1 } });
}

export async function migrateLatest(db: Db): Promise<string[]> {
  const migrator = withoutQueryTimeout(db);
  try {
    // A fixed lock table and advisory-locking knex migrator: safe when several replicas start together.
    const [, applied] = (await migrator.migrate.latest({ migrationSource, tableName: "knex_migrations" })) as [number, string[]];
    return applied;
  } finally {
    if (migrator !== db) await migrator.destroy();
  }
}
