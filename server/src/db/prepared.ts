import type { Knex } from "knex";

interface PgConnection {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[]; rowCount: number | null }>;
}
interface PoolingClient {
  config: { client?: unknown };
  acquireConnection(): Promise<PgConnection>;
  releaseConnection(connection: PgConnection): Promise<void>;
}

const checkedNames = new Set<string>();

/**
 * The embedded fallback binds by position, so $n must run 1…n in order, each once, with n values. Checked once per
 * statement name in both modes, so a misnumbered statement fails the Postgres test run too, not only embedded.
 */
export function assertPlaceholdersInOrder(name: string, text: string, valueCount: number): void {
  const numbers = [...text.matchAll(/\$(\d+)/g)].map((m) => Number(m[1]));
  const inOrder = numbers.length === valueCount && numbers.every((n, i) => n === i + 1);
  if (!inOrder) {
    throw new Error(`prepared statement ${name}: placeholders must be $1…$${valueCount} in order, each once`);
  }
  checkedNames.add(name);
}

/**
 * A hot-path query as a named prepared statement: Postgres plans it once per connection, and no query builder
 * runs per call (the profile put knex's SQL compilation at ~170 µs a request). Text uses $1…$n, each once and in
 * order. The embedded PGlite has no prepared statements through knex: there it runs as an ordinary raw query.
 */
export async function preparedQuery<Row>(db: Knex, name: string, text: string, values: unknown[]): Promise<{ rows: Row[]; rowCount: number }> {
  if (!checkedNames.has(name)) assertPlaceholdersInOrder(name, text, values.length);
  const client = db.client as unknown as PoolingClient;
  if (client.config.client === "pg") {
    const connection = await client.acquireConnection();
    try {
      const result = await connection.query({ name, text, values });
      return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0 };
    } finally {
      await client.releaseConnection(connection);
    }
  }
  const result = (await db.raw(text.replace(/\$\d+/g, "?"), values as Knex.RawBinding[])) as {
    rows: Row[];
    rowCount?: number;
    affectedRows?: number;
  };
  return { rows: result.rows, rowCount: result.rowCount ?? result.affectedRows ?? result.rows.length };
}
