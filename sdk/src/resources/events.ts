import type { RequestOptions } from "../http.js";
import type { PagePromise } from "../pagination.js";
import type { Event, EventListParams, RedeliveryResult } from "../types.js";
import { APIResource } from "./base.js";

/** What happened, as delivered to webhook endpoints. */
export class Events extends APIResource {
  /** `GET /v1/events?type=`, newest first. */
  list(params?: EventListParams, opts?: RequestOptions): PagePromise<Event> {
    return this.paginate(params, opts, (query, init) => this.http.api.GET("/v1/events", { params: { query }, ...init }));
  }

  /** `GET /v1/events/{id}`. */
  get(id: string, opts?: RequestOptions): Promise<Event> {
    return this.call(opts, (init) => this.http.api.GET("/v1/events/{id}", { params: { path: { id } }, ...init }));
  }

  /** `POST /v1/events/{id}/redeliver`: queued again for every endpoint that wants it, same `webhook-id`. */
  redeliver(id: string, opts?: RequestOptions): Promise<RedeliveryResult> {
    return this.call(opts, (init) => this.http.api.POST("/v1/events/{id}/redeliver", { params: { path: { id } }, ...init }));
  }
}
