import type { RequestOptions } from "../http.js";
import type { PagePromise } from "../pagination.js";
import type { Pool, PoolListParams } from "../types.js";
import { APIResource } from "./base.js";

/** Pool sizing figures. */
export class Pools extends APIResource {
  /** `GET /v1/pools/{pool}`. */
  get(pool: string, opts?: RequestOptions): Promise<Pool> {
    return this.call(opts, (init) => this.http.api.GET("/v1/pools/{pool}", { params: { path: { pool } }, ...init }));
  }

  /** `GET /v1/pools`: every pool that has held a number, by name. */
  list(params?: PoolListParams, opts?: RequestOptions): PagePromise<Pool> {
    return this.paginate(params, opts, (query, init) => this.http.api.GET("/v1/pools", { params: { query }, ...init }));
  }
}
