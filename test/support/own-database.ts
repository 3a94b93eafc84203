/**
 * A Postgres database of a test file's own, on the server the suite uses, for tests whose subject is every tenant at
 * once (a key rotation, the operator's pool gauges) and so cannot share the suite's database with other files. On
 * the embedded default there is nothing to create: each server already has its own data folder.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { testDatabaseUrl } from "./env.js";

export interface OwnDatabase {
  /** DATABASE_URL of the new database; undefined on the embedded default. */
  url: string | undefined;
  drop(): Promise<void>;
}

export async function createOwnDatabase(prefix: string): Promise<OwnDatabase> {
  if (!testDatabaseUrl) return { url: undefined, drop: async () => undefined };
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: testDatabaseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(testDatabaseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}
