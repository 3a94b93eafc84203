/**
 * Request and response types, all taken from the generated OpenAPI types (openapi/openapi.yaml is the source of truth).
 * The declaration bundle inlines them (see tsup.config.ts), so the published package needs no private workspace package.
 *
 * Each object type is an `interface` that extends its generated shape, rather than an alias of it: an editor then
 * names it (`Session`, `CallListParams`) where an alias would be shown expanded, or as `components["schemas"][…]`.
 * Unions (enums, `Event`) stay aliases.
 */
import type { components, operations, paths } from "@maskline/openapi/schema";
import type { SCHEMA_DEFAULTS } from "@maskline/openapi/constants";

export type { components, operations, paths };

type Schemas = components["schemas"];
type Schema<N extends keyof Schemas> = Schemas[N];
type ItemOf<A> = NonNullable<A> extends ReadonlyArray<infer T> ? T : never;
type Simplify<T> = { [K in keyof T]: T[K] } & {};
type SchemaDefaults = typeof SCHEMA_DEFAULTS;
/**
 * A request body with every property that has a spec `default` optional, since the server fills it in. The
 * generated types already have them optional (scripts/gen.mjs runs openapi-typescript with `defaultNonNullable`
 * off); taking the keys from the spec's defaults keeps it so for each default the spec gains, whatever that setting.
 */
type RequestBody<N extends keyof Schemas & keyof SchemaDefaults> = Simplify<
  Omit<Schemas[N], keyof SchemaDefaults[N]> & Partial<Pick<Schemas[N], keyof SchemaDefaults[N] & keyof Schemas[N]>>
>;
type Query<Op extends keyof operations> = NonNullable<operations[Op]["parameters"]["query"]>;

export interface Problem extends Schema<"Problem"> {}
export type ErrorCode = Schemas["ErrorCode"];
export interface FieldError extends ItemOf<Problem["errors"]> {}
/** `pool_exhausted` only: who has no free masking number (`PoolExhaustedError.participant`). */
export interface ProblemParticipant extends Schema<"ProblemParticipant"> {}

export interface Tenant extends Schema<"Tenant"> {}
export interface CreateTenantRequest extends Schema<"CreateTenantRequest"> {}
export interface CreateTenantResponse extends Schema<"CreateTenantResponse"> {}

export interface ApiKey extends Schema<"ApiKey"> {}
export interface ApiKeyWithSecret extends Schema<"ApiKeyWithSecret"> {}
export interface CreateApiKeyRequest extends Schema<"CreateApiKeyRequest"> {}

export interface App extends Schema<"App"> {}
export interface AppMessages extends Schema<"AppMessages"> {}
export interface CreateAppRequest extends RequestBody<"CreateAppRequest"> {}
export interface UpdateAppRequest extends Schema<"UpdateAppRequest"> {}

export interface MaskingNumber extends Schema<"MaskingNumber"> {}
export type NumberStatus = Schemas["NumberStatus"];
export interface ImportNumbersRequest extends RequestBody<"ImportNumbersRequest"> {}
export interface NumberImportResult extends Schema<"NumberImportResult"> {}

export interface Pool extends Schema<"Pool"> {}

export interface Session extends Schema<"Session"> {}
export type SessionStatus = Schemas["SessionStatus"];
export type SessionMode = Schemas["SessionMode"];
export type SessionRouting = Schemas["SessionRouting"];
export interface Participant extends Schema<"Participant"> {}
export interface ParticipantInput extends Schema<"ParticipantInput"> {}
export interface CreateSessionRequest extends RequestBody<"CreateSessionRequest"> {}
export interface UpdateSessionRequest extends Schema<"UpdateSessionRequest"> {}

export interface Call extends Schema<"Call"> {}
export type CallDecision = Schemas["CallDecision"];
export type CallStatus = Schemas["CallStatus"];
export interface PlaceCallRequest extends Schema<"PlaceCallRequest"> {}

export interface Recording extends Schema<"Recording"> {}
export type RecordingFormat = Schemas["RecordingFormat"];

export type EventType = Schemas["EventType"];
export interface SessionEvent extends Schema<"SessionEvent"> {}
export interface CallEvent extends Schema<"CallEvent"> {}
export interface RecordingEvent extends Schema<"RecordingEvent"> {}
export interface PoolExhaustedEvent extends Schema<"PoolExhaustedEvent"> {}
export interface WebhookEndpointDisabledEvent extends Schema<"WebhookEndpointDisabledEvent"> {}
/** An event, discriminated by `type`: `if (event.type === "call.started") event.data.decision`. */
export type Event = SessionEvent | CallEvent | RecordingEvent | PoolExhaustedEvent | WebhookEndpointDisabledEvent;
export interface RedeliveryResult extends Schema<"RedeliveryResult"> {}
export interface WebhookEndpoint extends Schema<"WebhookEndpoint"> {}
export interface WebhookEndpointWithSecret extends Schema<"WebhookEndpointWithSecret"> {}
export interface WebhookEndpointSecret extends Schema<"WebhookEndpointSecret"> {}
export interface CreateWebhookEndpointRequest extends Schema<"CreateWebhookEndpointRequest"> {}
export interface UpdateWebhookEndpointRequest extends Schema<"UpdateWebhookEndpointRequest"> {}
export interface WebhookDelivery extends Schema<"WebhookDelivery"> {}
export type WebhookDeliveryOutcome = Schemas["WebhookDeliveryOutcome"];
export type WebhookDisabledReason = Schemas["WebhookDisabledReason"];
/** The service's public signing keys (`GET /.well-known/jwks.json`), for `webhooks.verifyWithJwks`. */
export interface JwkSet extends Schema<"JwkSet"> {}
export interface Jwk extends Schema<"Jwk"> {}

export interface TenantSettings extends Schema<"TenantSettings"> {}
export interface UpdateTenantSettingsRequest extends Schema<"UpdateTenantSettingsRequest"> {}

/** `limit` and a starting `cursor`, accepted by every paginated list. */
export interface PageParams extends Query<"apiKeys.list"> {}
export interface TenantListParams extends Query<"admin.tenants.list"> {}
export interface ApiKeyListParams extends Query<"apiKeys.list"> {}
export interface AppListParams extends Query<"apps.list"> {}
export interface NumberListParams extends Query<"numbers.list"> {}
export interface SessionListParams extends Query<"sessions.list"> {}
export interface CallListParams extends Query<"calls.list"> {}
export interface PoolListParams extends Query<"pools.list"> {}
export interface EventListParams extends Query<"events.list"> {}
export interface RecordingListParams extends Query<"recordings.list"> {}
export interface WebhookDeliveryListParams extends Query<"webhookEndpoints.listDeliveries"> {}

/** One change made through the API: who (`actor`), what (`action`), which resource, when, from which address. */
export interface AuditEvent extends Schema<"AuditEvent"> {}
export interface AuditActor extends Schema<"AuditActor"> {}
export interface AuditEventListParams extends Query<"auditEvents.list"> {}
/** The web console's session (`maskline.console`). */
export interface ConsoleSession extends Schema<"ConsoleSession"> {}
export type ConsoleSessionKind = Schemas["ConsoleSessionKind"];
/** Live sessions and numbers now, calls since a time by decision (`maskline.usage.get`). */
export interface Usage extends Schema<"Usage"> {}
export interface UsageParams extends Query<"usage.get"> {}
/** The person an erasure or an export is about: their number, normalised like a participant's. */
export interface PersonRequest extends Schema<"PersonRequest"> {}
/** A person's erasure: `pending`, then `completed` with what it removed (counts only). */
export interface Erasure extends Schema<"Erasure"> {}
export interface ErasureListParams extends Query<"erasures.list"> {}
/** A person's export (an access request), kept 7 days. */
export interface Export extends Schema<"Export"> {}
/** How far re-encryption under the current master key has come (`maskline.admin.keyRotation.get`). */
export interface KeyRotationStatus extends Schema<"KeyRotationStatus"> {}
/** The operator's view: `tenantId` narrows it to one tenant. */
export interface AdminAuditEventListParams extends Query<"admin.auditEvents.list"> {}
