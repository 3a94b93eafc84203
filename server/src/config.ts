import { z } from "zod";

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export const DEFAULT_VOBIZ_API_BASE_URL = "https://api.vobiz.ai/api/v1";

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim()));

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  DATABASE_URL: optionalString.pipe(
    z.string().regex(/^postgres(ql)?:\/\//, "must be a postgres:// connection string").optional(),
  ),
  MASKLINE_DATA_DIR: z.string().min(1).default("./.maskline"),
  REDIS_URL: optionalString.pipe(
    z.string().regex(/^rediss?(\+cluster)?:\/\//, "must be a redis://, rediss:// or redis+cluster:// URL").optional(),
  ),
  PUBLIC_BASE_URL: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
  MASKLINE_ADMIN_TOKEN: optionalString.pipe(z.string().min(16, "must be at least 16 characters").optional()),
  MASKLINE_MASTER_KEY: optionalString.pipe(
    z
      .string()
      .refine((v) => Buffer.from(v, "base64").length === 32, "must be base64 of exactly 32 random bytes")
      .optional(),
  ),
  MASKLINE_MASTER_KEY_PREVIOUS: optionalString.pipe(
    z
      .string()
      .refine(
        (v) => v.split(",").every((k) => /^[A-Za-z0-9+/_-]+={0,2}$/.test(k.trim()) && Buffer.from(k.trim(), "base64").length === 32),
        "must be comma-separated base64 keys of exactly 32 bytes each",
      )
      .optional(),
  ),
  MASKLINE_SIGNING_KEY: optionalString,
  MASKLINE_WEBHOOK_ALLOW_PRIVATE: z.enum(["true", "false"]).default("false"),
  MASKLINE_WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(16),
  LOG_LEVEL: z.enum(LOG_LEVELS).default("info"),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  MASKLINE_SWEEP_INTERVAL_MS: z.coerce.number().int().min(100).default(30_000),
  MASKLINE_SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(10_000),
  MASKLINE_RATE_LIMIT_PER_SECOND: z.coerce.number().int().min(0).max(1_000_000).default(500),
  VOBIZ_API_BASE_URL: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
  MASKLINE_CALLS_PER_SECOND: z.coerce.number().int().min(0).max(10_000).default(5),
  MASKLINE_METRICS_TOKEN: optionalString.pipe(z.string().min(16, "must be at least 16 characters").optional()),
  // At most 29 s: the server checks for stalled requests every half second, so one is cut off within 30 s.
  MASKLINE_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(29_000).default(20_000),
  // The audit log's own retention, one for the service, apart from each tenant's data retention (docs/audit-log.md).
  MASKLINE_AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).default(730),
  // The web console's built files (docs/console.md); unset: console/dist of this checkout.
  MASKLINE_CONSOLE_DIR: optionalString,
  // Wrong console sign-ins an address may make in 15 minutes, across replicas; 0 turns the limit off.
  MASKLINE_CONSOLE_SIGN_IN_ATTEMPTS: z.coerce.number().int().min(0).max(10_000).default(10),
  // Behind one reverse proxy (a load balancer): the client's address is the last X-Forwarded-For entry.
  MASKLINE_TRUST_PROXY: z.enum(["true", "false"]).default("false"),
});

export type MetricsAccess = { kind: "token"; token: string } | { kind: "open" } | { kind: "closed" };

function metricsAccessOf(token: string | undefined, databaseUrl: string | undefined): MetricsAccess {
  if (token !== undefined) return { kind: "token", token };
  return { kind: databaseUrl === undefined ? "open" : "closed" };
}

export interface Config {
  readonly port: number;
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  readonly redisUrl: string | undefined;
  /** REDIS_URL parsed: one server, or the seed nodes of a Redis Cluster. */
  readonly redis: RedisTarget | undefined;
  /** No trailing slash. Webhook URLs and signature checks are built from it, never from the socket. */
  readonly publicBaseUrl: string;
  readonly adminToken: string | undefined;
  readonly masterKey: string | undefined;
  /** Older master keys, still accepted for reading while a rotation re-encrypts what they protect (newest first). */
  readonly masterKeysPrevious: readonly string[];
  /**
   * MASKLINE_SIGNING_KEY parsed: the Ed25519 keys of event signatures (`v1a`), the first signing and the rest only
   * published (retired keys receivers may still meet). Undefined in embedded mode until bootstrap generates one.
   */
  readonly signingKeys: readonly SigningKeySpec[] | undefined;
  /** Event endpoints may be http and point at loopback or private addresses (local development, tests). */
  readonly webhookAllowPrivate: boolean;
  /** Event deliveries in flight at once on this replica (each endpoint is further bounded on its own). */
  readonly webhookConcurrency: number;
  /**
   * The service sits behind one reverse proxy that sets X-Forwarded-For: a request's address (console sign-in limits,
   * logs) is the one that proxy saw. Off, the header is ignored (a client could otherwise pick its own address).
   */
  readonly trustProxy: boolean;
  readonly logLevel: (typeof LOG_LEVELS)[number];
  readonly databasePoolMax: number;
  readonly sweepIntervalMs: number;
  readonly shutdownGraceMs: number;
  /** Tenant API requests per second per tenant, across replicas (with Redis); 0 turns the limit off. */
  readonly rateLimitPerSecond: number;
  /** How long a client may take to send one whole request (headers and body) before it is answered 408. */
  readonly requestTimeoutMs: number;
  /** The carrier's REST API (calls Maskline places, recordings); no trailing slash. */
  readonly vobizApiBaseUrl: string;
  /** Calls a tenant may have Maskline place per second (click-to-call), across replicas; 0 turns the limit off. */
  readonly callsPerSecond: number;
  /**
   * Who may read GET /metrics: a bearer token when MASKLINE_METRICS_TOKEN is set; otherwise anyone in embedded mode
   * (a developer's machine) and no one on Postgres, where a forgotten token must not open the operator's view.
   */
  readonly metricsAccess: MetricsAccess;
  /** Audit events older than this many days are deleted by the retention purge (and nothing else deletes them). */
  readonly auditRetentionDays: number;
  /** The web console's build folder (index.html, assets/); undefined: console/dist of this checkout. */
  readonly consoleDir: string | undefined;
  /** Wrong console sign-ins one address may make per 15-minute window (counted in kv); 0: unlimited. */
  readonly consoleSignInAttempts: number;
}

/** One Ed25519 signing key: its 32-byte seed (base64) and, when the operator named it, its key id. */
export interface SigningKeySpec {
  readonly seed: string;
  readonly kid: string | undefined;
}

const KID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * `MASKLINE_SIGNING_KEY`: comma-separated `[kid:]seed` entries, each seed the base64 (or base64url) of 32 random
 * bytes (`openssl rand -base64 32`). The first signs; the others are still published in the JWK Set, so a rotation
 * puts the new key first and keeps the old one listed for a while. Without a kid, a key's id is its JWK thumbprint.
 */
export function parseSigningKeys(value: string): readonly SigningKeySpec[] {
  const invalid = (why: string) => new ConfigError(`invalid configuration: MASKLINE_SIGNING_KEY ${why}`);
  const keys = value.split(",").map((entry, i) => {
    const text = entry.trim();
    const colon = text.indexOf(":");
    const kid = colon === -1 ? undefined : text.slice(0, colon);
    const seed = colon === -1 ? text : text.slice(colon + 1);
    if (kid !== undefined && !KID.test(kid)) throw invalid(`entry ${i + 1} has a key id that is not 1-64 of A-Z a-z 0-9 . _ -`);
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(seed) || Buffer.from(seed, "base64").length !== 32) {
      throw invalid(`entry ${i + 1} must be [kid:]base64 of exactly 32 random bytes`);
    }
    return Object.freeze({ seed, kid });
  });
  const kids = keys.map((k) => k.kid).filter((k) => k !== undefined);
  if (new Set(kids).size !== kids.length) throw invalid("names the same key id twice");
  return Object.freeze(keys);
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

export interface RedisNode {
  readonly host: string;
  readonly port: number;
}

export type RedisTarget =
  | { readonly kind: "single"; readonly url: string }
  | {
      readonly kind: "cluster";
      /** Seed nodes: any reachable one is enough, the client learns the rest of the cluster from it. */
      readonly nodes: readonly RedisNode[];
      readonly username: string | undefined;
      readonly password: string | undefined;
      readonly tls: boolean;
    };

const CLUSTER_URL = /^(rediss?)\+cluster:\/\/([^/?#]*)(\/0?)?$/;
const CLUSTER_NODE = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]@,]+):(\d{1,5})$/;

/**
 * `redis://[user:password@]host:port[/db]` (and rediss://) names one server. A cluster is named by several seed nodes,
 * which a WHATWG URL can't hold, so it has its own form: `redis+cluster://[user:password@]host:port,host:port[/0]`
 * (`rediss+cluster://` for TLS; a cluster has only database 0). Messages never echo the value: it may hold a password.
 */
export function parseRedisUrl(value: string): RedisTarget {
  const invalid = (why: string) => new ConfigError(`invalid configuration: REDIS_URL ${why}`);
  if (!/^rediss?\+cluster:/.test(value)) {
    let host = "";
    try {
      host = new URL(value).hostname;
    } catch {
      // reported below
    }
    if (!host) throw invalid("is not a valid URL (expected redis://[user:password@]host:port[/db])");
    return Object.freeze({ kind: "single", url: value });
  }
  const match = CLUSTER_URL.exec(value);
  if (!match) throw invalid("is not a valid cluster URL (expected redis+cluster://[user:password@]host:port,host:port[/0])");
  const authority = match[2]!;
  const at = authority.lastIndexOf("@");
  const userinfo = at === -1 ? undefined : authority.slice(0, at);
  const nodes = (at === -1 ? authority : authority.slice(at + 1)).split(",").map((entry) => {
    const node = CLUSTER_NODE.exec(entry.trim());
    const port = Number(node?.[2]);
    if (!node || port < 1 || port > 65535) throw invalid("has a cluster node that is not host:port");
    return Object.freeze({ host: node[1]!.replace(/^\[(.*)\]$/, "$1"), port });
  });
  let username: string | undefined;
  let password: string | undefined;
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(":");
    try {
      username = decodeURIComponent(colon === -1 ? userinfo : userinfo.slice(0, colon)) || undefined;
      password = colon === -1 ? undefined : decodeURIComponent(userinfo.slice(colon + 1)) || undefined;
    } catch {
      throw invalid("has badly percent-encoded credentials");
    }
  }
  return Object.freeze({ kind: "cluster", nodes: Object.freeze(nodes), username, password, tls: match[1] === "rediss" });
}

/** Parses the environment once. Throws a ConfigError whose message is one line naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0] ?? "environment");
    throw new ConfigError(`invalid configuration: ${name} ${issue.message}`);
  }
  const e = parsed.data;
  if (e.DATABASE_URL && !e.MASKLINE_MASTER_KEY) {
    throw new ConfigError(
      "invalid configuration: MASKLINE_MASTER_KEY is required when DATABASE_URL is set (base64 of 32 random bytes, e.g. `openssl rand -base64 32`)",
    );
  }
  if (e.DATABASE_URL && !e.MASKLINE_SIGNING_KEY) {
    // Every replica must sign events with the same key, which therefore cannot be generated per process.
    throw new ConfigError(
      "invalid configuration: MASKLINE_SIGNING_KEY is required when DATABASE_URL is set (base64 of 32 random bytes: the Ed25519 key that signs events)",
    );
  }
  if (e.PORT === 0 && !e.PUBLIC_BASE_URL) {
    // The port is only known after binding, and the webhook URLs handed to tenants (and the signature checks)
    // are built from this value: "http://localhost:0" would be configured into Vobiz and never answer.
    throw new ConfigError("invalid configuration: PUBLIC_BASE_URL is required when PORT=0 (webhook URLs must name a reachable port)");
  }
  const publicBaseUrl = (e.PUBLIC_BASE_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, "");
  return Object.freeze({
    port: e.PORT,
    databaseUrl: e.DATABASE_URL,
    dataDir: e.MASKLINE_DATA_DIR,
    redisUrl: e.REDIS_URL,
    redis: e.REDIS_URL === undefined ? undefined : parseRedisUrl(e.REDIS_URL),
    publicBaseUrl,
    adminToken: e.MASKLINE_ADMIN_TOKEN,
    masterKey: e.MASKLINE_MASTER_KEY,
    masterKeysPrevious: Object.freeze((e.MASKLINE_MASTER_KEY_PREVIOUS ?? "").split(",").map((k) => k.trim()).filter(Boolean)),
    signingKeys: e.MASKLINE_SIGNING_KEY === undefined ? undefined : parseSigningKeys(e.MASKLINE_SIGNING_KEY),
    webhookAllowPrivate: e.MASKLINE_WEBHOOK_ALLOW_PRIVATE === "true",
    webhookConcurrency: e.MASKLINE_WEBHOOK_CONCURRENCY,
    trustProxy: e.MASKLINE_TRUST_PROXY === "true",
    logLevel: e.LOG_LEVEL,
    databasePoolMax: e.DATABASE_POOL_MAX,
    sweepIntervalMs: e.MASKLINE_SWEEP_INTERVAL_MS,
    shutdownGraceMs: e.MASKLINE_SHUTDOWN_GRACE_MS,
    rateLimitPerSecond: e.MASKLINE_RATE_LIMIT_PER_SECOND,
    requestTimeoutMs: e.MASKLINE_REQUEST_TIMEOUT_MS,
    vobizApiBaseUrl: (e.VOBIZ_API_BASE_URL ?? DEFAULT_VOBIZ_API_BASE_URL).replace(/\/+$/, ""),
    callsPerSecond: e.MASKLINE_CALLS_PER_SECOND,
    metricsAccess: metricsAccessOf(e.MASKLINE_METRICS_TOKEN, e.DATABASE_URL),
    auditRetentionDays: e.MASKLINE_AUDIT_RETENTION_DAYS,
    consoleDir: e.MASKLINE_CONSOLE_DIR,
    consoleSignInAttempts: e.MASKLINE_CONSOLE_SIGN_IN_ATTEMPTS,
  });
}
