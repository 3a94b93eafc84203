import type { RequestOptions } from "../http.js";
import type { PagePromise } from "../pagination.js";
import type {
  CreateWebhookEndpointRequest,
  PageParams,
  UpdateWebhookEndpointRequest,
  WebhookDelivery,
  WebhookDeliveryListParams,
  WebhookEndpoint,
  WebhookEndpointSecret,
  WebhookEndpointWithSecret,
} from "../types.js";
import { APIResource } from "./base.js";

/** Where the tenant's events are delivered, signed. */
export class WebhookEndpoints extends APIResource {
  /** `POST /v1/webhook-endpoints`; the returned `secret` is shown only here (and on rotation). */
  create(body: CreateWebhookEndpointRequest, opts?: RequestOptions): Promise<WebhookEndpointWithSecret> {
    return this.call(opts, (init) => this.http.api.POST("/v1/webhook-endpoints", { body, ...init }));
  }

  /** `GET /v1/webhook-endpoints`, newest first; secrets are never listed. */
  list(params?: PageParams, opts?: RequestOptions): PagePromise<WebhookEndpoint> {
    return this.paginate(params, opts, (query, init) => this.http.api.GET("/v1/webhook-endpoints", { params: { query }, ...init }));
  }

  /** `GET /v1/webhook-endpoints/{id}`. */
  get(id: string, opts?: RequestOptions): Promise<WebhookEndpoint> {
    return this.call(opts, (init) => this.http.api.GET("/v1/webhook-endpoints/{id}", { params: { path: { id } }, ...init }));
  }

  /** `PATCH /v1/webhook-endpoints/{id}`: url, events, description, enabled. */
  update(id: string, body: UpdateWebhookEndpointRequest, opts?: RequestOptions): Promise<WebhookEndpoint> {
    return this.call(opts, (init) => this.http.api.PATCH("/v1/webhook-endpoints/{id}", { params: { path: { id } }, body, ...init }));
  }

  /** `DELETE /v1/webhook-endpoints/{id}`. */
  async delete(id: string, opts?: RequestOptions): Promise<void> {
    await this.call(opts, (init) => this.http.api.DELETE("/v1/webhook-endpoints/{id}", { params: { path: { id } }, ...init }));
  }

  /** `POST /v1/webhook-endpoints/{id}/rotate-secret`: the old secret keeps signing for 24 hours. */
  rotateSecret(id: string, opts?: RequestOptions): Promise<WebhookEndpointSecret> {
    return this.call(opts, (init) =>
      this.http.api.POST("/v1/webhook-endpoints/{id}/rotate-secret", { params: { path: { id } }, ...init }),
    );
  }

  /** `GET /v1/webhook-endpoints/{id}/deliveries`: every attempt, newest first. */
  listDeliveries(id: string, params?: WebhookDeliveryListParams, opts?: RequestOptions): PagePromise<WebhookDelivery> {
    return this.paginate(params, opts, (query, init) =>
      this.http.api.GET("/v1/webhook-endpoints/{id}/deliveries", { params: { path: { id }, query }, ...init }),
    );
  }
}
