import type { RequestOptions } from "../http.js";
import type { PagePromise } from "../pagination.js";
import type { Erasure, ErasureListParams, Export, PersonRequest } from "../types.js";
import { APIResource } from "./base.js";

/**
 * Erasure of one person from everything the tenant holds (a right-to-erasure request). It runs in the background:
 * `create` answers at once with the erasure `pending`; `get` shows what was removed (counts, never the number).
 */
export class Erasures extends APIResource {
  /** `POST /v1/erasures` (202). Erasing a number twice is harmless; the second erasure finds nothing. */
  create(body: PersonRequest, opts?: RequestOptions): Promise<Erasure> {
    return this.call(opts, (init) => this.http.api.POST("/v1/erasures", { body, ...init }));
  }

  /** `GET /v1/erasures`, newest first. */
  list(params?: ErasureListParams, opts?: RequestOptions): PagePromise<Erasure> {
    return this.paginate(params, opts, (query, init) => this.http.api.GET("/v1/erasures", { params: { query }, ...init }));
  }

  /** `GET /v1/erasures/{id}`. */
  get(id: string, opts?: RequestOptions): Promise<Erasure> {
    return this.call(opts, (init) => this.http.api.GET("/v1/erasures/{id}", { params: { path: { id } }, ...init }));
  }
}

/**
 * What the tenant holds about one person (an access request), built in the background and kept 7 days: `create`
 * answers `pending`; `get` carries the result once `completed`. It never holds another person's number.
 */
export class Exports extends APIResource {
  /** `POST /v1/exports` (202). */
  create(body: PersonRequest, opts?: RequestOptions): Promise<Export> {
    return this.call(opts, (init) => this.http.api.POST("/v1/exports", { body, ...init }));
  }

  /** `GET /v1/exports/{id}`. */
  get(id: string, opts?: RequestOptions): Promise<Export> {
    return this.call(opts, (init) => this.http.api.GET("/v1/exports/{id}", { params: { path: { id } }, ...init }));
  }
}
