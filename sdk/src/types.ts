/**
 * Request and response types, all taken from the generated OpenAPI types (openapi/openapi.yaml is the source of truth).
 * The declaration bundle inlines them (see tsup.config.ts), so the published package needs no private workspace package.
 */
import type { components, operations, paths } from "@maskline/openapi/schema";
import type { SCHEMA_DEFAULTS } from "@maskline/openapi/constants";

export type { components, operations, paths };

type Schemas = components["schemas"];
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

export type Problem = Schemas["Problem"];
export type ErrorCode = Schemas["ErrorCode"];
export type FieldError = NonNullable<Problem["errors"]>[number];

export type Tenant = Schemas["Tenant"];
export type CreateTenantRequest = Schemas["CreateTenantRequest"];
export type CreateTenantResponse = Schemas["CreateTenantResponse"];

export type ApiKey = Schemas["ApiKey"];
export type ApiKeyWithSecret = Schemas["ApiKeyWithSecret"];
export type CreateApiKeyRequest = Schemas["CreateApiKeyRequest"];

export type App = Schemas["App"];
export type AppMessages = Schemas["AppMessages"];
export type CreateAppRequest = RequestBody<"CreateAppRequest">;
export type UpdateAppRequest = Schemas["UpdateAppRequest"];

export type MaskingNumber = Schemas["MaskingNumber"];
export type NumberStatus = Schemas["NumberStatus"];
export type ImportNumbersRequest = RequestBody<"ImportNumbersRequest">;
export type NumberImportResult = Schemas["NumberImportResult"];

export type Pool = Schemas["Pool"];

export type Session = Schemas["Session"];
export type SessionStatus = Schemas["SessionStatus"];
export type SessionMode = Schemas["SessionMode"];
export type SessionRouting = Schemas["SessionRouting"];
export type Participant = Schemas["Participant"];
export type ParticipantInput = Schemas["ParticipantInput"];
export type CreateSessionRequest = RequestBody<"CreateSessionRequest">;
export type UpdateSessionRequest = Schemas["UpdateSessionRequest"];

export type Call = Schemas["Call"];
export type CallDecision = Schemas["CallDecision"];
export type CallStatus = Schemas["CallStatus"];
export type PlaceCallRequest = Schemas["PlaceCallRequest"];

export type Recording = Schemas["Recording"];
export type RecordingFormat = Schemas["RecordingFormat"];

export type EventType = Schemas["EventType"];
export type SessionEvent = Schemas["SessionEvent"];
export type CallEvent = Schemas["CallEvent"];
export type RecordingEvent = Schemas["RecordingEvent"];
export type PoolExhaustedEvent = Schemas["PoolExhaustedEvent"];
export type WebhookEndpointDisabledEvent = Schemas["WebhookEndpointDisabledEvent"];
/** An event, discriminated by `type`: `if (event.type === "call.started") event.data.decision`. */
export type Event = SessionEvent | CallEvent | RecordingEvent | PoolExhaustedEvent | WebhookEndpointDisabledEvent;
export type RedeliveryResult = Schemas["RedeliveryResult"];
export type WebhookEndpoint = Schemas["WebhookEndpoint"];
export type WebhookEndpointWithSecret = Schemas["WebhookEndpointWithSecret"];
export type WebhookEndpointSecret = Schemas["WebhookEndpointSecret"];
export type CreateWebhookEndpointRequest = Schemas["CreateWebhookEndpointRequest"];
export type UpdateWebhookEndpointRequest = Schemas["UpdateWebhookEndpointRequest"];
export type WebhookDelivery = Schemas["WebhookDelivery"];
export type WebhookDeliveryOutcome = Schemas["WebhookDeliveryOutcome"];
export type WebhookDisabledReason = Schemas["WebhookDisabledReason"];
/** The service's public signing keys (`GET /.well-known/jwks.json`), for `webhooks.verifyWithJwks`. */
export type JwkSet = Schemas["JwkSet"];
export type Jwk = Schemas["Jwk"];

export type TenantSettings = Schemas["TenantSettings"];
export type UpdateTenantSettingsRequest = Schemas["UpdateTenantSettingsRequest"];

/** `limit` and a starting `cursor`, accepted by every paginated list. */
export type PageParams = Query<"apiKeys.list">;
export type TenantListParams = Query<"admin.tenants.list">;
export type ApiKeyListParams = Query<"apiKeys.list">;
export type AppListParams = Query<"apps.list">;
export type NumberListParams = Query<"numbers.list">;
export type SessionListParams = Query<"sessions.list">;
export type CallListParams = Query<"calls.list">;
export type PoolListParams = Query<"pools.list">;
export type EventListParams = Query<"events.list">;
export type RecordingListParams = Query<"recordings.list">;
export type WebhookDeliveryListParams = Query<"webhookEndpoints.listDeliveries">;

/** One change made through the API: who (`actor`), what (`action`), which resource, when, from which address. */
export type AuditEvent = Schemas["AuditEvent"];
export type AuditActor = Schemas["AuditActor"];
export type AuditEventListParams = Query<"auditEvents.list">;
/** The web console's session (`maskline.console`). */
export type ConsoleSession = Schemas["ConsoleSession"];
export type ConsoleSessionKind = Schemas["ConsoleSessionKind"];
/** Live sessions and numbers now, calls since a time by decision (`maskline.usage.get`). */
export type Usage = Schemas["Usage"];
export type UsageParams = Query<"usage.get">;
/** The operator's view: `tenantId` narrows it to one tenant. */
export type AdminAuditEventListParams = Query<"admin.auditEvents.list">;
