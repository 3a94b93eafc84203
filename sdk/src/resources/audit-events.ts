import type { RequestOptions } from "../http.js";
import type { PagePromise } from "../pagination.js";
import type { AuditEvent, AuditEventListParams } from "../types.js";
import { APIResource } from "./base.js";

/** The tenant's audit log: who changed what through the API, when and from where (append-only). */
export class AuditEvents extends APIResource {
  /** `GET /v1/audit-events?action=&resourceId=`, newest first. */
  list(params?: AuditEventListParams, opts?: RequestOptions): PagePromise<AuditEvent> {
    return this.paginate(params, opts, (query, init) => this.http.api.GET("/v1/audit-events", { params: { query }, ...init }));
  }
}
