/** The bench's own database access: (re)creating the dedicated database, and a client for checks and preload. */
import pg from "pg";

export const PG_ADMIN_URL = process.env.BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
export const BENCH_DB = "maskline_bench";

export function benchDatabaseUrl(): string {
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${BENCH_DB}`;
  return u.toString();
}

/** Drops (terminating any leftover connections) and creates `maskline_bench`; nothing else is touched. */
export async function recreateBenchDatabase(): Promise<void> {
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${BENCH_DB} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${BENCH_DB}`);
  } finally {
    await admin.end();
  }
}

export async function connectBench(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: benchDatabaseUrl(), application_name: "maskline-bench" });
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
