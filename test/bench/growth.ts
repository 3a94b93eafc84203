/**
 * The growth phase (hardening finding 5): a fresh database and a server of its own, a tenant set up through the
 * API, then scenarios/growth.ts grows it from empty. Nothing is preloaded and nothing is analyzed; autovacuum is
 * switched off for the phase's tables (whatever the server's setting, as on CI's Postgres), so the server works
 * with the plans its connections made while the tables were tiny, which is what the phase is about.
 */
import type { Keyring } from "../../server/src/crypto/keyring.js";
import { connectBench, databaseUrl, GROWTH_DB, recreateDatabase } from "./db.js";
import { setServerRssProbe } from "./loadgen-runner.js";
import { sampleMemory, stopProcess } from "./processes.js";
import type { Profile } from "./profiles.js";
import { measureGrowth, type GrowthFigures } from "./scenarios/growth.js";
import { startBenchServer, type BenchServerOptions } from "./server.js";
import { setupTenant } from "./setup.js";

export async function runGrowthPhase(
  serverOptions: Omit<BenchServerOptions, "databaseUrl" | "logName">,
  keys: Keyring,
  profile: Profile,
  log: (line: string) => void,
): Promise<GrowthFigures> {
  log(`growth phase: recreating database ${GROWTH_DB}, starting a server on it`);
  await recreateDatabase(GROWTH_DB);
  const { server, origin } = await startBenchServer({ ...serverOptions, databaseUrl: databaseUrl(GROWTH_DB), logName: "server-growth.log" });
  const memory = sampleMemory(server.pid);
  setServerRssProbe(() => memory.phasePeakMiB());
  const db = await connectBench(GROWTH_DB);
  try {
    // Before the server's first query on them (a storage parameter change invalidates cached plans).
    const { rows } = await db.query<{ tablename: string }>(`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`);
    for (const { tablename } of rows) await db.query(`ALTER TABLE "${tablename}" SET (autovacuum_enabled = false)`);
    log(`  setup through the API: tenant, app, ${profile.dids} DIDs`);
    const tenant = await setupTenant(origin, serverOptions.adminToken, profile.dids);
    log(`  growing to ${profile.growth.targetSessions.toLocaleString("en-US")} sessions through the API, answers interleaved`);
    const figures = await measureGrowth({ origin, db, tenant, timing: profile.timing, log }, keys, profile.growth);
    return { ...figures, serverMemory: memory.read() };
  } finally {
    memory.stop();
    await db.end().catch(() => undefined);
    await stopProcess(server.child);
  }
}
