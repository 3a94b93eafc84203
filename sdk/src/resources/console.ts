import type { Credential, RequestOptions } from "../http.js";
import type { ConsoleSession } from "../types.js";
import { APIResource } from "./base.js";

/**
 * The web console's session (`/v1/console/session`). In a browser: `signIn` sets the session cookie (HttpOnly: no
 * script sees it) and returns the CSRF token to construct `new Maskline({ baseUrl, session: { csrfToken } })` with.
 */
export class Console extends APIResource {
  protected override readonly credential: Credential = "session";

  /** `POST /v1/console/session`: a tenant API key or the operator token, exchanged for a session cookie. */
  signIn(credential: string, opts?: RequestOptions): Promise<ConsoleSession> {
    return this.http.call("none", opts, (init) => this.http.api.POST("/v1/console/session", { body: { credential }, ...init }));
  }

  /** `GET /v1/console/session`: the session the cookie names, with its CSRF token. */
  getSession(opts?: RequestOptions): Promise<ConsoleSession> {
    return this.call(opts, (init) => this.http.api.GET("/v1/console/session", { ...init }));
  }

  /** `DELETE /v1/console/session`: ends the session on the server and clears the cookie. */
  async signOut(opts?: RequestOptions): Promise<void> {
    await this.call(opts, (init) => this.http.api.DELETE("/v1/console/session", { ...init }));
  }
}
