import type { RequestOptions } from "../http.js";
import type { PagePromise } from "../pagination.js";
import type { ApiKey, ApiKeyListParams, ApiKeyWithSecret, CreateApiKeyRequest } from "../types.js";
import { APIResource } from "./base.js";

/** The tenant's own API keys. */
export class ApiKeys extends APIResource {
  /** `GET /v1/api-keys`; secrets are never listed. */
  list(params?: ApiKeyListParams, opts?: RequestOptions): PagePromise<ApiKey> {
    return this.paginate(params, opts, (query, init) => this.http.api.GET("/v1/api-keys", { params: { query }, ...init }));
  }

  /** `POST /v1/api-keys`; the returned `secret` is shown only this once. */
  create(body: CreateApiKeyRequest = {}, opts?: RequestOptions): Promise<ApiKeyWithSecret> {
    return this.call(opts, (init) => this.http.api.POST("/v1/api-keys", { body, ...init }));
  }

  /** `DELETE /v1/api-keys/{id}`: revokes the key at once. */
  async delete(id: string, opts?: RequestOptions): Promise<void> {
    await this.call(opts, (init) => this.http.api.DELETE("/v1/api-keys/{id}", { params: { path: { id } }, ...init }));
  }
}
