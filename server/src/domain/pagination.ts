/**
 * A page of a keyset list, as services and stores take it: at most `limit` rows after the key `after` (exclusive).
 * How a page is asked for over HTTP (the opaque cursor) is http/pagination.ts's business.
 */
export interface PageRequest {
  limit: number;
  after?: string;
}
