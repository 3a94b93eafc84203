import type { RequestOptions } from "../http.js";
import type { PagePromise } from "../pagination.js";
import type { ImportNumbersRequest, MaskingNumber, NumberImportResult, NumberListParams } from "../types.js";
import { APIResource } from "./base.js";

/** Masking DIDs. */
export class Numbers extends APIResource {
  /** `POST /v1/numbers`: imports DIDs into a pool of an app; returns `{ data: MaskingNumber[] }`. */
  create(body: ImportNumbersRequest, opts?: RequestOptions): Promise<NumberImportResult> {
    return this.call(opts, (init) => this.http.api.POST("/v1/numbers", { body, ...init }));
  }

  /** Alias of `create`. */
  import(body: ImportNumbersRequest, opts?: RequestOptions): Promise<NumberImportResult> {
    return this.create(body, opts);
  }

  /** `GET /v1/numbers/{id}`. */
  get(id: string, opts?: RequestOptions): Promise<MaskingNumber> {
    return this.call(opts, (init) => this.http.api.GET("/v1/numbers/{id}", { params: { path: { id } }, ...init }));
  }

  /** `GET /v1/numbers?pool=&appId=&status=`. */
  list(params?: NumberListParams, opts?: RequestOptions): PagePromise<MaskingNumber> {
    return this.paginate(params, opts, (query, init) => this.http.api.GET("/v1/numbers", { params: { query }, ...init }));
  }

  /** `DELETE /v1/numbers/{id}`: releases the DID (409 `ConflictError` while an open session uses it). */
  async delete(id: string, opts?: RequestOptions): Promise<void> {
    await this.call(opts, (init) => this.http.api.DELETE("/v1/numbers/{id}", { params: { path: { id } }, ...init }));
  }
}
