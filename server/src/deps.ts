import type { Logger } from "pino";
import type { Config } from "./config.js";
import type { Db } from "./db/database.js";
import type { Kv } from "./kv/kv.js";
import type { Keyring } from "./crypto/keyring.js";
import type { AppCache } from "./services/app-cache.js";

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
}
