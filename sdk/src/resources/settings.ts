import type { RequestOptions } from "../http.js";
import type { TenantSettings, UpdateTenantSettingsRequest } from "../types.js";
import { APIResource } from "./base.js";

/** The tenant's own settings. */
export class Settings extends APIResource {
  /** `GET /v1/settings`: the settings in force, defaults filled in. */
  get(opts?: RequestOptions): Promise<TenantSettings> {
    return this.call(opts, (init) => this.http.api.GET("/v1/settings", { ...init }));
  }

  /** `PATCH /v1/settings`: fields left out keep their value; returns the settings in force afterwards. */
  update(body: UpdateTenantSettingsRequest, opts?: RequestOptions): Promise<TenantSettings> {
    return this.call(opts, (init) => this.http.api.PATCH("/v1/settings", { body, ...init }));
  }
}
