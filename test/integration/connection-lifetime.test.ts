/**
 * Pooled connections are retired at the end of their lifetime (server/src/db/connection-lifetime.ts), so the
 * statements prepared on them are planned again on a fresh backend. Real Postgres only: the embedded PGlite has one
 * in-process connection and no prepared plans to renew.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase, type Db } from "../../server/src/db/database.js";
import { testDatabaseUrl } from "../support/env.js";

const LIFETIME_MS = 300;
const backendPid = async (db: Db) => ((await db.raw("select pg_backend_pid() as pid")) as { rows: { pid: number }[] }).rows[0]!.pid;

describe.skipIf(!testDatabaseUrl)("pooled Postgres connections", () => {
  let db: Db;
  beforeAll(async () => {
    db = await createDatabase({ databaseUrl: testDatabaseUrl, dataDir: "unused", poolMax: 1, connectionLifetimeMs: () => LIFETIME_MS });
  });
  afterAll(async () => {
    await db?.destroy();
  });

  it("keep their backend within their lifetime", async () => {
    const first = await backendPid(db);
    expect(await backendPid(db)).toBe(first);
  });

  it("are replaced by a new backend once their lifetime has passed, with nothing lost for the caller", async () => {
    const before = await backendPid(db);
    await new Promise((resolve) => setTimeout(resolve, LIFETIME_MS + 100));
    const after = await backendPid(db);
    expect(after).not.toBe(before);
    const { rows } = (await db.raw("select 1 as one")) as { rows: { one: number }[] };
    expect(rows).toEqual([{ one: 1 }]);
  });

  it("are never retired in the middle of a transaction", async () => {
    await db.transaction(async (trx) => {
      const pid = await backendPid(trx);
      await new Promise((resolve) => setTimeout(resolve, LIFETIME_MS + 100));
      expect(await backendPid(trx)).toBe(pid);
    });
  });
});
