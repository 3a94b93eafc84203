import type { Logger } from "pino";
import type { Config } from "./config.js";
import type { Db } from "./db/database.js";
import type { Kv } from "./kv/kv.js";
import type { Keyring } from "./crypto/keyring.js";
import type { AppCache, PoolCache } from "./services/app-cache.js";
import type { CallLog } from "./services/call-log.js";

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
  /** Call rows, written behind the answer in batches; CallUUIDs claimed in kv before the reply. */
  readonly callLog: CallLog;
}
