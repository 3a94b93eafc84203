import type { RequestOptions } from "../http.js";
import type { PagePromise } from "../pagination.js";
import type { App, AppListParams, components, CreateAppRequest, UpdateAppRequest } from "../types.js";
import { APIResource } from "./base.js";

/** The tenant's Vobiz applications. */
export class Apps extends APIResource {
  /** `POST /v1/apps`: returns the `answerUrl`/`hangupUrl` to paste into Vobiz. */
  create(body: CreateAppRequest, opts?: RequestOptions): Promise<App> {
    return this.call(opts, (init) =>
      // Defaulted fields may be omitted; the server applies the spec defaults (see types.ts).
      this.http.api.POST("/v1/apps", { body: body as components["schemas"]["CreateAppRequest"], ...init }),
    );
  }

  /** `GET /v1/apps/{id}`. */
  get(id: string, opts?: RequestOptions): Promise<App> {
    return this.call(opts, (init) => this.http.api.GET("/v1/apps/{id}", { params: { path: { id } }, ...init }));
  }

  /** `GET /v1/apps`. */
  list(params?: AppListParams, opts?: RequestOptions): PagePromise<App> {
    return this.paginate(params, opts, (query, init) => this.http.api.GET("/v1/apps", { params: { query }, ...init }));
  }

  /** `PATCH /v1/apps/{id}`. */
  update(id: string, body: UpdateAppRequest, opts?: RequestOptions): Promise<App> {
    return this.call(opts, (init) =>
      this.http.api.PATCH("/v1/apps/{id}", { params: { path: { id } }, body, ...init }),
    );
  }
}
