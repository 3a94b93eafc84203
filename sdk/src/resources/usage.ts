import type { RequestOptions } from "../http.js";
import type { Usage as UsageFigures, UsageParams } from "../types.js";
import { APIResource } from "./base.js";

/** What the tenant uses. */
export class Usage extends APIResource {
  /** `GET /v1/usage?since=`: live sessions and numbers now; calls since `since` (default 24 h ago) by decision. */
  get(params?: UsageParams, opts?: RequestOptions): Promise<UsageFigures> {
    return this.call(opts, (init) => this.http.api.GET("/v1/usage", { params: { query: params ?? {} }, ...init }));
  }
}
