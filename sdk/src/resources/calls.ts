import type { RequestOptions } from "../http.js";
import type { PagePromise } from "../pagination.js";
import type { Call, CallListParams } from "../types.js";
import { APIResource } from "./base.js";

/** Call records. */
export class Calls extends APIResource {
  /** `GET /v1/calls/{id}`. */
  get(id: string, opts?: RequestOptions): Promise<Call> {
    return this.call(opts, (init) => this.http.api.GET("/v1/calls/{id}", { params: { path: { id } }, ...init }));
  }

  /** `GET /v1/calls?sessionId=&decision=`, newest first. */
  list(filters?: CallListParams, opts?: RequestOptions): PagePromise<Call> {
    return this.paginate(filters, opts, (query, init) => this.http.api.GET("/v1/calls", { params: { query }, ...init }));
  }
}
