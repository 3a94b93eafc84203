import { type ConsoleSessionAuth, type FetchLike, HttpClient } from "./http.js";
import { Admin } from "./resources/admin.js";
import { ApiKeys } from "./resources/api-keys.js";
import { Apps } from "./resources/apps.js";
import { Calls } from "./resources/calls.js";
import { Recordings } from "./resources/recordings.js";
import { Numbers } from "./resources/numbers.js";
import { Pools } from "./resources/pools.js";
import { Sessions } from "./resources/sessions.js";
import { Settings } from "./resources/settings.js";
import { Events } from "./resources/events.js";
import { WebhookEndpoints } from "./resources/webhook-endpoints.js";
import { AuditEvents } from "./resources/audit-events.js";
import { Console } from "./resources/console.js";
import { Usage } from "./resources/usage.js";
import { Erasures, Exports } from "./resources/privacy.js";
import { ClientWebhooks } from "./webhooks.js";
import { VERSION } from "./version.js";

export interface MasklineOptions {
  /** A tenant API key (`mk_live_…`), sent as `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /**
   * The operator token (`MASKLINE_ADMIN_TOKEN`) for `maskline.admin.*`. When absent, admin calls use `apiKey`, so an
   * operator-only client can be `new Maskline({ apiKey: adminToken, baseUrl })`.
   */
  adminToken?: string;
  /**
   * In a browser signed in to the web console: no key at all; the session cookie authenticates, and every call
   * carries the session's CSRF token. Tenant and operator calls alike go through it (the session's kind decides).
   */
  session?: ConsoleSessionAuth;
  /** The service's base URL, e.g. `https://api.example.com` (no `/v1`). */
  baseUrl: string;
  /** A `fetch` implementation; defaults to `globalThis.fetch`. */
  fetch?: FetchLike;
  /** Retries after the first attempt on network errors, timeouts, 429 and 5xx. Default 2. */
  maxRetries?: number;
  /** Per-attempt timeout in milliseconds. Default 30000. */
  timeoutMs?: number;
  /** The `User-Agent` header. Default `maskline-sdk-js/<version>`. */
  userAgent?: string;
}

export class Maskline {
  static readonly VERSION = VERSION;

  readonly apiKeys: ApiKeys;
  readonly admin: Admin;
  readonly apps: Apps;
  readonly numbers: Numbers;
  readonly sessions: Sessions;
  readonly calls: Calls;
  readonly recordings: Recordings;
  readonly pools: Pools;
  readonly settings: Settings;
  readonly webhookEndpoints: WebhookEndpoints;
  readonly events: Events;
  /** The tenant's audit log (append-only): who changed what, when, from where. */
  readonly auditEvents: AuditEvents;
  /** The web console's session: sign in with a key or the operator token, read it back, sign out. */
  readonly console: Console;
  /** Live sessions, numbers and calls by decision since a time. */
  readonly usage: Usage;
  /** Erasing a person from everything the tenant holds (right to erasure). */
  readonly erasures: Erasures;
  /** What the tenant holds about a person (access request). */
  readonly exports: Exports;
  /** Verifying deliveries at your endpoint (no request is made), and `fetchJwks()` for `verifyWithJwks`. */
  readonly webhooks: ClientWebhooks;

  constructor(options: MasklineOptions) {
    if (!options || typeof options.baseUrl !== "string" || options.baseUrl === "") {
      throw new TypeError("Maskline: `baseUrl` is required");
    }
    if (!options.apiKey && !options.adminToken && !options.session) {
      throw new TypeError("Maskline: pass `apiKey` (tenant key), `adminToken` (operator token) or `session` (web console)");
    }
    const http = new HttpClient({
      baseUrl: options.baseUrl.replace(/\/+$/, ""),
      apiKey: options.apiKey,
      adminToken: options.adminToken,
      session: options.session,
      fetch: options.fetch ?? ((request) => globalThis.fetch(request)),
      maxRetries: options.maxRetries ?? 2,
      timeoutMs: options.timeoutMs ?? 30_000,
      userAgent: options.userAgent ?? `maskline-sdk-js/${VERSION}`,
    });
    this.apiKeys = new ApiKeys(http);
    this.admin = new Admin(http);
    this.apps = new Apps(http);
    this.numbers = new Numbers(http);
    this.sessions = new Sessions(http);
    this.calls = new Calls(http);
    this.recordings = new Recordings(http);
    this.pools = new Pools(http);
    this.settings = new Settings(http);
    this.webhookEndpoints = new WebhookEndpoints(http);
    this.events = new Events(http);
    this.auditEvents = new AuditEvents(http);
    this.console = new Console(http);
    this.usage = new Usage(http);
    this.erasures = new Erasures(http);
    this.exports = new Exports(http);
    this.webhooks = new ClientWebhooks(http);
  }
}
