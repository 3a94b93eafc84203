export { Maskline, type MasklineOptions } from "./client.js";
export type { ConsoleSessionAuth, FetchLike, RequestOptions } from "./http.js";
export { Page, PagePromise, type PageLoader, type PageResponse, type ToArrayOptions } from "./pagination.js";
export {
  AuthenticationError,
  CarrierError,
  ConflictError,
  ConnectionError,
  IdempotencyConflictError,
  MasklineError,
  NotFoundError,
  PermissionDeniedError,
  PoolExhaustedError,
  RateLimitError,
  ServerError,
  ValidationError,
  type MasklineErrorCode,
  type MasklineErrorInit,
} from "./errors.js";
export type * from "./types.js";
export type { Admin, AdminApiKeys, AdminAuditEvents, AdminKeyRotation, AdminTenants } from "./resources/admin.js";
export type { Erasures, Exports } from "./resources/privacy.js";
export type { ApiKeys } from "./resources/api-keys.js";
export type { Apps } from "./resources/apps.js";
export type { Calls } from "./resources/calls.js";
export type { Recordings, RecordingMedia } from "./resources/recordings.js";
export type { Numbers } from "./resources/numbers.js";
export type { Pools } from "./resources/pools.js";
export type { Sessions } from "./resources/sessions.js";
export type { Settings } from "./resources/settings.js";
export type { Events } from "./resources/events.js";
export type { WebhookEndpoints } from "./resources/webhook-endpoints.js";
export type { AuditEvents } from "./resources/audit-events.js";
export type { Console } from "./resources/console.js";
export type { Usage as UsageResource } from "./resources/usage.js";
export {
  type ClientWebhooks,
  Webhooks,
  WebhookVerificationError,
  verifyWebhook,
  verifyWebhookWithJwks,
  webhooks,
  type PublicJwk,
  type VerifyOptions,
  type WebhookHeaders,
  type WebhookVerificationReason,
} from "./webhooks.js";
export { VERSION } from "./version.js";
