import type { Logger } from "pino";
import type { Config } from "./config.js";
import type { Db } from "./db/database.js";
import type { Kv } from "./kv/kv.js";
import type { Keyring } from "./crypto/keyring.js";
import type { AppCache, PoolCache } from "./services/caches.js";
import type { CallLog } from "./services/call-log.js";
import type { ReplayGuard } from "./services/replay-guard.js";
import type { SigningKeys } from "./crypto/signing-keys.js";
import type { Resolver } from "./outbound/endpoint-url.js";
import type { ForegroundLoad } from "./time/foreground-load.js";
import type { Carrier } from "./carrier/carrier.js";
import type { Metrics } from "./metrics/metrics.js";
import type { ConsoleTokens } from "./crypto/console-tokens.js";

export interface Clock {
  now(): Date;
}
export const systemClock: Clock = Object.freeze({ now: () => new Date() });

/** Everything the app needs, built once at start-up and frozen. Nothing else reads process.env. */
export interface Deps {
  readonly config: Config;
  readonly db: Db;
  readonly kv: Kv;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly keys: Keyring;
  /** The webhooks' view of apps, kept in memory and invalidated across replicas through kv. */
  readonly appCache: AppCache;
  /** Each pool's active DIDs, kept in memory and invalidated across replicas through kv. */
  readonly poolCache: PoolCache;
  /** Call rows, group-committed before each answer's reply: the durable record and idempotency claim of a call. */
  readonly callLog: CallLog;
  /** Carrier nonce replay refusal: kv first, the Postgres ledger while kv is away. */
  readonly replayGuard: ReplayGuard;
  /** The Ed25519 keys that sign event deliveries (`v1a`), published at /.well-known/jwks.json. */
  readonly signingKeys: SigningKeys;
  /** DNS for event endpoints' hosts, checked against the address policy at registration and at every connection. */
  readonly resolver: Resolver;
  /** The requests this process is serving, which background work (event deliveries) yields to. */
  readonly load: ForegroundLoad;
  /** The carrier's REST API: calls Maskline places, recordings (carrier/vobiz-rest.ts). */
  readonly carrier: Carrier;
  /** This instance's Prometheus metrics (GET /metrics). */
  readonly metrics: Metrics;
  /** The web console's session tokens and CSRF tokens, keyed from the master key (crypto/console-tokens.ts). */
  readonly consoleTokens: ConsoleTokens;
}
