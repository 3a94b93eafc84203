import type { Logger } from "pino";
import { ConfigError, type Config } from "./config.js";
import { systemClock, type Clock, type Deps } from "./deps.js";
import { createDatabase, migrateLatest } from "./db/database.js";
import { loadOrCreateEmbeddedSecrets } from "./db/embedded-secrets.js";
import { createKeyring } from "./crypto/keyring.js";
import { parseMasterKey } from "./crypto/tokens.js";
import { createMemoryKv } from "./kv/memory.js";
import type { Kv } from "./kv/kv.js";
import { createRedisKv } from "./kv/redis.js";
import { createLogger } from "./logging/logger.js";
import { createAppCache, createPoolCache } from "./services/app-cache.js";
import { createCallLog } from "./services/call-log.js";
import { createReplayGuard } from "./services/replay-guard.js";
import { createSigningKeys } from "./crypto/signing-keys.js";
import { systemResolver, type Resolver } from "./outbound/endpoint-url.js";
import { createForegroundLoad } from "./time/foreground-load.js";
import { createVobizRestCarrier, type VobizRestTimeouts } from "./carrier/vobiz-rest.js";
import { createMetrics } from "./metrics/metrics.js";
import { countDatabaseErrors, countingKv } from "./metrics/counted.js";
import { createConsoleTokens } from "./crypto/console-tokens.js";

export interface Runtime {
  deps: Deps;
  /** Set on the first start of an embedded instance: the one time its generated secrets are shown. */
  generatedSecrets?: { adminToken: string; path: string };
  close(): Promise<void>;
}

/**
 * Builds the frozen deps from a parsed config. Embedded mode (no DATABASE_URL) fills in the admin token and
 * master key generated in MASKLINE_DATA_DIR; a server with DATABASE_URL must be given its master key.
 */
export async function buildRuntime(
  config: Config,
  // `clock`: tests move time (a session's expiry) instead of sleeping; the service always runs on the system clock.
  // `resolver`: tests point a public-looking name at a private address to prove it is never connected to.
  // `carrierTimeouts`: tests prove a carrier that never answers in a fraction of a second, not in ten.
  opts: { logger?: Logger; migrate?: boolean; clock?: Clock; resolver?: Resolver; carrierTimeouts?: VobizRestTimeouts } = {},
): Promise<Runtime> {
  const logger = opts.logger ?? createLogger({ level: config.logLevel });
  let resolved = config;
  let generatedSecrets: Runtime["generatedSecrets"];
  if (!config.databaseUrl) {
    const secrets = loadOrCreateEmbeddedSecrets(config.dataDir);
    resolved = Object.freeze({
      ...config,
      adminToken: config.adminToken ?? secrets.adminToken,
      masterKey: config.masterKey ?? secrets.masterKey,
      // The configured previous keys, else those a `pnpm rotate-keys` in progress left in the data folder.
      masterKeysPrevious: config.masterKey ? config.masterKeysPrevious : [...config.masterKeysPrevious, ...secrets.masterKeysPrevious],
      signingKeys: config.signingKeys ?? Object.freeze([Object.freeze({ seed: secrets.signingKey, kid: undefined })]),
    });
    if (secrets.created) generatedSecrets = { adminToken: resolved.adminToken!, path: secrets.path };
  }
  if (!resolved.masterKey) throw new ConfigError("invalid configuration: MASKLINE_MASTER_KEY is required");
  if (!resolved.adminToken) logger.warn("MASKLINE_ADMIN_TOKEN is not set: the operator API refuses every request");

  if (!resolved.signingKeys) throw new ConfigError("invalid configuration: MASKLINE_SIGNING_KEY is required");
  const masterKey = parseMasterKey(resolved.masterKey);
  const keys = createKeyring(masterKey, resolved.masterKeysPrevious.map(parseMasterKey));
  const consoleTokens = createConsoleTokens(masterKey);
  const signingKeys = await createSigningKeys(resolved.signingKeys);
  const db = await createDatabase({ databaseUrl: resolved.databaseUrl, dataDir: resolved.dataDir, poolMax: resolved.databasePoolMax });
  let kv: Kv;
  try {
    if (opts.migrate !== false) await migrateLatest(db);
    kv = resolved.redis ? await createRedisKv(resolved.redis) : createMemoryKv();
  } catch (err) {
    await db.destroy().catch(() => undefined);
    throw err;
  }
  const metrics = createMetrics();
  countDatabaseErrors(db, metrics);
  kv = countingKv(kv, metrics);
  const appCache = createAppCache({ db, kv, keys, logger });
  const poolCache = createPoolCache({ db, kv, logger });
  const callLog = createCallLog({ db, logger });
  const replayGuard = createReplayGuard({ db, kv, logger });
  const carrier = createVobizRestCarrier({
    baseUrl: resolved.vobizApiBaseUrl,
    // Recording media on another origin may be a local address only where tenants' webhooks may be (dev, tests).
    allowPrivateMedia: resolved.webhookAllowPrivate,
    ...(opts.carrierTimeouts ? { timeouts: opts.carrierTimeouts } : {}),
    ...(opts.resolver ? { resolve: opts.resolver } : {}),
  });
  const deps: Deps = Object.freeze({
    config: resolved,
    db,
    kv,
    logger,
    clock: opts.clock ?? systemClock,
    keys,
    appCache,
    poolCache,
    callLog,
    replayGuard,
    signingKeys,
    resolver: opts.resolver ?? systemResolver,
    load: createForegroundLoad(),
    carrier,
    metrics,
    consoleTokens,
  });
  return {
    deps,
    ...(generatedSecrets ? { generatedSecrets } : {}),
    async close() {
      // Call rows being written reach Postgres before its pool closes (their requests are still waiting on them).
      await callLog.close().catch((err: unknown) => logger.error({ err }, "call rows in flight not written at shutdown"));
      carrier.close();
      await appCache.close().catch(() => undefined);
      await poolCache.close().catch(() => undefined);
      await kv.close().catch((err: unknown) => logger.warn({ err }, "closing kv failed"));
      await db.destroy().catch((err: unknown) => logger.warn({ err }, "closing database failed"));
    },
  };
}
