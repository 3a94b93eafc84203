/** One generated request and what, beyond the general oracle, it must get back. */
import type { RawRequest } from "./raw-http.js";

export type Surface = "api" | "webhook";

export interface Expectation {
  /** Exact statuses, any 4xx, or anything but a success. */
  status: number[] | "4xx" | "not2xx";
  /** Why: printed with a failure ("a NUL anywhere is a deliberate 4xx"). */
  why: string;
}

export interface FuzzCase {
  operationId: string;
  surface: Surface;
  /** baseline | property | body | encoding | query | path | auth | headers | transport | app-id | url-secret | signature | field */
  group: string;
  /** The mutation's class, without concrete values: failures are deduplicated on it ("string ← NUL"). */
  kind: string;
  /** Exactly what was changed ("/metadata/k0 ← \"a\\u0000b\""). */
  detail: string;
  request: RawRequest;
  expect?: Expectation;
  /**
   * Baselines: sent first and one at a time (before mutations exhaust pools or replay nonces); a non-2xx means the
   * generator or a fixture is wrong, and is reported as a test problem, not a server one.
   */
  baseline?: boolean;
  /** Sent after the baselines, one at a time (a nonce replay must follow the request it replays). */
  afterBaselines?: boolean;
  /**
   * The operation asks the carrier's REST API and documents `502 carrier_error` for a carrier refusal: that answer
   * is then a contract answer, not a server error (a baseline must still succeed: the fuzz carrier accepts it).
   */
  carrierErrors?: boolean;
}

export const NUL_IS_4XX: Expectation = { status: "4xx", why: "a NUL anywhere must be a deliberate 4xx" };
export const OVER_LIMIT_IS_413: Expectation = {
  status: [413],
  why: "a body over the size limit is 413 payload_too_large",
};
export const ENCODING_IS_4XX: Expectation = {
  status: "4xx",
  why: "a Content-Encoding the body does not have must be a deliberate 4xx",
};
export const HUGE_HEADERS_ARE_431: Expectation = { status: [431], why: "huge headers are 431, as problem+json" };
export const MALFORMED_HTTP_IS_4XX: Expectation = {
  status: "4xx",
  why: "a request the HTTP parser refuses still gets a 4xx problem+json",
};

/** A JS string as it would be printed in a case detail: escapes visible, long values shortened. */
export function show(value: unknown, max = 60): string {
  const text = typeof value === "string" ? JSON.stringify(value) : String(JSON.stringify(value) ?? value);
  return text.length > max ? `${text.slice(0, max)}…(${text.length} chars)` : text;
}
