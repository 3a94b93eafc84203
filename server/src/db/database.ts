import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import knexFactory, { type Knex } from "knex";
import pg from "pg";
import { migrationSource } from "../../../migrations/index.js";

export type Db = Knex;

// Postgres returns bigint counts as strings; our counts fit comfortably in a JS number.
pg.types.setTypeParser(20, (v) => Number.parseInt(v, 10));

export interface DatabaseOptions {
  databaseUrl: string | undefined;
  dataDir: string;
  poolMax: number;
}

/**
 * knex over `pg` when DATABASE_URL is set; otherwise the embedded PGlite in `<dataDir>/pgdata`. PGlite (a
 * WebAssembly Postgres) is loaded only in embedded mode, so a server on real Postgres never carries it.
 */
export async function createDatabase(opts: DatabaseOptions): Promise<Db> {
  if (opts.databaseUrl) {
    return knexFactory({
      client: "pg",
      connection: { connectionString: opts.databaseUrl, application_name: "maskline" },
      pool: { min: 0, max: opts.poolMax, idleTimeoutMillis: 30_000 },
      acquireConnectionTimeout: 5_000,
    });
  }
  const dir = resolve(opts.dataDir, "pgdata");
  mkdirSync(dir, { recursive: true });
  const { default: ClientPgLite } = await import("knex-pglite");
  return knexFactory({ client: ClientPgLite as unknown as typeof Knex.Client, dialect: "postgres", connection: { filename: dir } });
}

export async function migrateLatest(db: Db): Promise<string[]> {
  // A fixed lock table and advisory-locking knex migrator: safe when several replicas start together.
  const [, applied] = (await db.migrate.latest({ migrationSource, tableName: "knex_migrations" })) as [number, string[]];
  return applied;
}

export const embeddedDataPath = (dataDir: string, ...parts: string[]) => join(resolve(dataDir), ...parts);
