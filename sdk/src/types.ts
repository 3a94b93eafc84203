/**
 * Request and response types, all taken from the generated OpenAPI types (openapi/openapi.yaml is the source of truth).
 * The declaration bundle inlines them (see tsup.config.ts), so the published package needs no private workspace package.
 */
import type { components, operations, paths } from "@maskline/openapi/schema";

export type { components, operations, paths };

type Schemas = components["schemas"];
type Simplify<T> = { [K in keyof T]: T[K] } & {};
/**
 * The generator (openapi-typescript, `defaultNonNullable` on) marks every property that has a spec `default` as
 * required. That is right for responses but not for request bodies, where the server applies the default; these
 * request types make such properties optional again.
 */
type DefaultsOptional<T, K extends keyof T> = Simplify<Omit<T, K> & Partial<Pick<T, K>>>;
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
export type CreateAppRequest = DefaultsOptional<Schemas["CreateAppRequest"], "signatureRequired" | "ringTimeoutSeconds">;
export type UpdateAppRequest = Schemas["UpdateAppRequest"];

export type MaskingNumber = Schemas["MaskingNumber"];
export type NumberStatus = Schemas["NumberStatus"];
export type ImportNumbersRequest = Schemas["ImportNumbersRequest"];
export type NumberImportResult = Schemas["NumberImportResult"];

export type Pool = Schemas["Pool"];

export type Session = Schemas["Session"];
export type SessionStatus = Schemas["SessionStatus"];
export type SessionMode = Schemas["SessionMode"];
export type Participant = Schemas["Participant"];
export type ParticipantInput = Schemas["ParticipantInput"];
export type CreateSessionRequest = DefaultsOptional<Schemas["CreateSessionRequest"], "ttlSeconds">;
export type UpdateSessionRequest = Schemas["UpdateSessionRequest"];

export type Call = Schemas["Call"];
export type CallDecision = Schemas["CallDecision"];
export type CallStatus = Schemas["CallStatus"];

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
