import type { RequestOptions } from "../http.js";
import type { PagePromise } from "../pagination.js";
import type { Pool } from "../types.js";
import { APIResource } from "./base.js";

/** Pool sizing figures. */
export class Pools extends APIResource {
  /** `GET /v1/pools/{pool}`. */
  get(pool: string, opts?: RequestOptions): Promise<Pool> {
    return this.call(opts, (init) => this.http.api.GET("/v1/pools/{pool}", { params: { path: { pool } }, ...init }));
  }

  /** `GET /v1/pools`: every pool holding a number. Not paginated by the API: one page, `hasMore` false. */
  list(opts?: RequestOptions): PagePromise<Pool> {
    return this.paginate(undefined, opts, (_query, init) => this.http.api.GET("/v1/pools", { ...init }));
  }
}
