/** The bench's own database access: (re)creating its dedicated databases, and clients for checks and preload. */
import pg from "pg";

export const PG_ADMIN_URL = process.env.BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
/** The scale levels' database (preloaded, analyzed). */
export const BENCH_DB = "maskline_bench";
/** The growth phase's database: created empty, filled through the API only, never analyzed. */
export const GROWTH_DB = "maskline_bench_growth";
/** Every database the bench owns: the only ones it drops, and the ones whose backends count as its Postgres. */
export const BENCH_DATABASES: readonly string[] = [BENCH_DB, GROWTH_DB];

export function databaseUrl(name: string): string {
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

export const benchDatabaseUrl = () => databaseUrl(BENCH_DB);

/** Drops (terminating any leftover connections) and creates one of the bench's databases; nothing else is touched. */
export async function recreateDatabase(name: string): Promise<void> {
  if (!BENCH_DATABASES.includes(name)) throw new Error(`${name} is not a bench database`);
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
}

export const recreateBenchDatabase = () => recreateDatabase(BENCH_DB);

// Any 64-bit key will do, as long as it is the bench's own: "maskline-bench" in ASCII, truncated.
const LOCK_KEY = "7809310420848434028";

/**
 * One bench at a time on this machine: a second run would drop the first one's database and share its cores.
 * A session-level advisory lock on the `postgres` database, held by a dedicated connection for the whole run and
 * released by Postgres if this process dies. Waits (reporting who holds it) up to `maxWaitMs`, then gives up.
 */
export async function acquireRunLock(log: (line: string) => void, maxWaitMs = 15 * 60_000): Promise<{ release(): Promise<void> }> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL, application_name: `maskline-bench pid ${process.pid}` });
  await client.connect();
  const deadline = Date.now() + maxWaitMs;
  let told = false;
  for (;;) {
    const got = await scalar<boolean>(client, "SELECT pg_try_advisory_lock($1::bigint)", [LOCK_KEY]);
    if (got) return { release: () => client.end() };
    if (!told) {
      const holder = await scalar<string | undefined>(
        client,
        `SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
          WHERE l.locktype = 'advisory' AND l.granted AND ((l.classid::bigint << 32) | l.objid::bigint) = $1::bigint LIMIT 1`,
        [LOCK_KEY],
      );
      log(`another bench run holds the lock (${holder ?? "unknown"}); waiting for it to finish…`);
      told = true;
    }
    if (Date.now() > deadline) {
      await client.end();
      throw new Error("another pnpm bench run kept the lock for too long; try again later");
    }
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  }
}

export async function connectBench(name = BENCH_DB): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: databaseUrl(name), application_name: "maskline-bench" });
  await client.connect();
  return client;
}

export async function scalar<T = number>(db: pg.Client, sql: string, params: unknown[] = []): Promise<T> {
  const res = await db.query(sql, params);
  const row = res.rows[0] as Record<string, unknown> | undefined;
  const value = row ? Object.values(row)[0] : undefined;
  return (typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value) as T;
}

export async function postgresInfo(db: pg.Client) {
  const setting = (name: string) => scalar<string>(db, `select current_setting($1)`, [name]);
  return {
    version: await scalar<string>(db, "select version()"),
    sharedBuffers: await setting("shared_buffers"),
    synchronousCommit: await setting("synchronous_commit"),
    maxConnections: await setting("max_connections"),
    workMem: await setting("work_mem"),
  };
}
