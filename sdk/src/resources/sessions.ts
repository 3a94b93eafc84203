import type { RequestOptions } from "../http.js";
import type { PagePromise } from "../pagination.js";
import type { Call, components, CreateSessionRequest, PlaceCallRequest, Session, SessionListParams, UpdateSessionRequest } from "../types.js";
import { APIResource } from "./base.js";

/** Masked sessions between two people. */
export class Sessions extends APIResource {
  /**
   * `POST /v1/sessions`. Pass `{ idempotencyKey }` to make a retry from your side return the same session; without
   * it the SDK sends a fresh key (reused across its own retries).
   */
  create(body: CreateSessionRequest, opts?: RequestOptions): Promise<Session> {
    return this.call(opts, (init) =>
      // Defaulted fields may be omitted; the server applies the spec defaults (see types.ts).
      this.http.api.POST("/v1/sessions", { body: body as components["schemas"]["CreateSessionRequest"], ...init }),
    );
  }

  /** `GET /v1/sessions/{id}`. */
  get(id: string, opts?: RequestOptions): Promise<Session> {
    return this.call(opts, (init) => this.http.api.GET("/v1/sessions/{id}", { params: { path: { id } }, ...init }));
  }

  /** `GET /v1/sessions?status=&reference=&pool=`, newest first. */
  list(filters?: SessionListParams, opts?: RequestOptions): PagePromise<Session> {
    return this.paginate(filters, opts, (query, init) =>
      this.http.api.GET("/v1/sessions", { params: { query }, ...init }),
    );
  }

  /** `PATCH /v1/sessions/{id}`: `ttlSeconds` counts from now; `metadata` replaces the old one. */
  update(id: string, body: UpdateSessionRequest, opts?: RequestOptions): Promise<Session> {
    return this.call(opts, (init) =>
      this.http.api.PATCH("/v1/sessions/{id}", { params: { path: { id } }, body, ...init }),
    );
  }

  /**
   * `POST /v1/sessions/{id}/calls` (click-to-call): rings `participantId` from their own masking number, then bridges
   * the other participant. Resolves to the call (`status` `initiated`, or `unknown` if the carrier did not answer in
   * time: it is never placed twice); a carrier refusal throws `CarrierError`. The automatic Idempotency-Key makes
   * the SDK's own retries safe.
   */
  placeCall(id: string, body: PlaceCallRequest, opts?: RequestOptions): Promise<Call> {
    return this.call(opts, (init) =>
      this.http.api.POST("/v1/sessions/{id}/calls", { params: { path: { id } }, body, ...init }),
    );
  }

  /** `POST /v1/sessions/{id}/close`: closing twice is fine. */
  close(id: string, opts?: RequestOptions): Promise<Session> {
    return this.call(opts, (init) =>
      this.http.api.POST("/v1/sessions/{id}/close", { params: { path: { id } }, ...init }),
    );
  }
}
