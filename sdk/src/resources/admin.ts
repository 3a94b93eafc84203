import type { Credential, HttpClient, RequestOptions } from "../http.js";
import type { PagePromise } from "../pagination.js";
import type {
  AdminAuditEventListParams,
  ApiKey,
  ApiKeyListParams,
  ApiKeyWithSecret,
  AuditEvent,
  CreateApiKeyRequest,
  CreateTenantRequest,
  CreateTenantResponse,
  KeyRotationStatus,
  Tenant,
  TenantListParams,
  Usage,
  UsageParams,
} from "../types.js";
import { APIResource } from "./base.js";

/** `/v1/admin/tenants`, with the operator token. */
export class AdminTenants extends APIResource {
  protected override readonly credential: Credential = "admin";

  /** `POST /v1/admin/tenants`: the tenant and its first API key (secret shown only here). */
  create(body: CreateTenantRequest, opts?: RequestOptions): Promise<CreateTenantResponse> {
    return this.call(opts, (init) => this.http.api.POST("/v1/admin/tenants", { body, ...init }));
  }

  /** `GET /v1/admin/tenants`. */
  list(params?: TenantListParams, opts?: RequestOptions): PagePromise<Tenant> {
    return this.paginate(params, opts, (query, init) =>
      this.http.api.GET("/v1/admin/tenants", { params: { query }, ...init }),
    );
  }

  /** `GET /v1/admin/tenants/{tenantId}/usage?since=`: what `usage.get()` shows the tenant. */
  usage(tenantId: string, params?: UsageParams, opts?: RequestOptions): Promise<Usage> {
    return this.call(opts, (init) =>
      this.http.api.GET("/v1/admin/tenants/{tenantId}/usage", { params: { path: { tenantId }, query: params ?? {} }, ...init }),
    );
  }
}

/** `/v1/admin/tenants/{tenantId}/api-keys`, with the operator token. */
export class AdminApiKeys extends APIResource {
  protected override readonly credential: Credential = "admin";

  /** `POST /v1/admin/tenants/{tenantId}/api-keys`: a new key for a tenant (secret shown only here). */
  create(tenantId: string, body: CreateApiKeyRequest = {}, opts?: RequestOptions): Promise<ApiKeyWithSecret> {
    return this.call(opts, (init) =>
      this.http.api.POST("/v1/admin/tenants/{tenantId}/api-keys", { params: { path: { tenantId } }, body, ...init }),
    );
  }

  /**
   * `DELETE /v1/admin/tenants/{tenantId}/api-keys/{id}`: revoke a tenant's key (a leaked one, say); it and its console
   * sessions are refused at once. Revoking twice is fine.
   */
  async delete(tenantId: string, id: string, opts?: RequestOptions): Promise<void> {
    await this.call(opts, (init) =>
      this.http.api.DELETE("/v1/admin/tenants/{tenantId}/api-keys/{id}", { params: { path: { tenantId, id } }, ...init }),
    );
  }

  /** `GET /v1/admin/tenants/{tenantId}/api-keys`: the tenant's keys, newest first (never their secrets). */
  list(tenantId: string, params?: ApiKeyListParams, opts?: RequestOptions): PagePromise<ApiKey> {
    return this.paginate(params, opts, (query, init) =>
      this.http.api.GET("/v1/admin/tenants/{tenantId}/api-keys", { params: { path: { tenantId }, query }, ...init }),
    );
  }
}

/** `/v1/admin/audit-events`, with the operator token: the audit log across tenants. */
export class AdminAuditEvents extends APIResource {
  protected override readonly credential: Credential = "admin";

  /** `GET /v1/admin/audit-events?tenantId=&action=`, newest first, every tenant's unless `tenantId` names one. */
  list(params?: AdminAuditEventListParams, opts?: RequestOptions): PagePromise<AuditEvent> {
    return this.paginate(params, opts, (query, init) =>
      this.http.api.GET("/v1/admin/audit-events", { params: { query }, ...init }),
    );
  }
}

/** `/v1/admin/key-rotation`, with the operator token. */
export class AdminKeyRotation extends APIResource {
  protected override readonly credential: Credential = "admin";

  /** `GET /v1/admin/key-rotation`: once `complete`, the previous master keys can leave the configuration. */
  get(opts?: RequestOptions): Promise<KeyRotationStatus> {
    return this.call(opts, (init) => this.http.api.GET("/v1/admin/key-rotation", { ...init }));
  }
}

/**
 * The operator API. Its calls send `Authorization: Bearer <adminToken>`, falling back to `apiKey` when no
 * `adminToken` was given (so `new Maskline({ apiKey: operatorToken, baseUrl })` works too).
 */
export class Admin {
  readonly tenants: AdminTenants;
  readonly apiKeys: AdminApiKeys;
  readonly auditEvents: AdminAuditEvents;
  readonly keyRotation: AdminKeyRotation;

  constructor(http: HttpClient) {
    this.tenants = new AdminTenants(http);
    this.apiKeys = new AdminApiKeys(http);
    this.auditEvents = new AdminAuditEvents(http);
    this.keyRotation = new AdminKeyRotation(http);
  }
}
