import type { ApiResult, CallInit, Credential, HttpClient, RequestOptions } from "../http.js";
import { PagePromise, type PageResponse } from "../pagination.js";

export abstract class APIResource {
  protected readonly credential: Credential = "tenant";

  constructor(protected readonly http: HttpClient) {}

  protected call<T>(opts: RequestOptions | undefined, run: (init: CallInit) => Promise<ApiResult<T>>): Promise<T> {
    return this.http.call(this.credential, opts, run);
  }

  /** A paginated list: `query` minus its cursor is repeated for every page. */
  protected paginate<T, Q extends { cursor?: string }>(
    query: Q | undefined,
    opts: RequestOptions | undefined,
    run: (query: Q, init: CallInit) => Promise<ApiResult<PageResponse<T>>>,
  ): PagePromise<T> {
    const base = { ...query } as Q;
    return PagePromise.from<T>(
      (cursor) => this.call(opts, (init) => run({ ...base, cursor } as Q, init)),
      query?.cursor,
    );
  }
}
