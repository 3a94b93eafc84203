import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import knexFactory, { type Knex } from "knex";
import pg from "pg";
import ClientPgLite from "knex-pglite";
import { migrationSource } from "../../../migrations/index.js";

export type Db = Knex;

// Postgres returns bigint counts as strings; our counts fit comfortably in a JS number.
pg.types.setTypeParser(20, (v) => Number.parseInt(v, 10));

export interface DatabaseOptions {
  databaseUrl: string | undefined;
  dataDir: string;
  poolMax: number;
}

/** knex over `pg` when DATABASE_URL is set; otherwise the embedded PGlite in `<dataDir>/pgdata`. */
export function createDatabase(opts: DatabaseOptions): Db {
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
  return knexFactory({ client: ClientPgLite as unknown as typeof Knex.Client, dialect: "postgres", connection: { filename: dir } });
}

/** An in-memory embedded database (tests that need a throwaway PGlite). */
export function createMemoryDatabase(): Db {
  return knexFactory({ client: ClientPgLite as unknown as typeof Knex.Client, dialect: "postgres", connection: {} });
}

export async function migrateLatest(db: Db): Promise<string[]> {
  // A fixed lock table and advisory-locking knex migrator: safe when several replicas start together.
  const [, applied] = (await db.migrate.latest({ migrationSource, tableName: "knex_migrations" })) as [number, string[]];
  return applied;
}

export const embeddedDataPath = (dataDir: string, ...parts: string[]) => join(resolve(dataDir), ...parts);
