import { createDatabase, migrateLatest } from "../../server/src/db/database.js";
import { testDatabaseUrl } from "./env.js";

// With a shared Postgres, migrate once before any test file starts (files run in parallel).
export default async function setup() {
  if (!testDatabaseUrl) return;
  const db = await createDatabase({ databaseUrl: testDatabaseUrl, dataDir: ".", poolMax: 1 });
  try {
    await migrateLatest(db);
  } finally {
    await db.destroy();
  }
}
