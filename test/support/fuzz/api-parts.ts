/**
 * A tenant/operator API request as parts (path values, query pairs, headers, JSON body), so each mutation changes one
 * part of a valid baseline and everything else stays valid: a refusal is then about the mutated part.
 */
import type { RawRequest } from "./raw-http.js";
import { toJsonText } from "./schema-values.js";
import type { Operation } from "./spec.js";
import { fillPath } from "./spec.js";

export interface ApiParts {
  method: string;
  /** Path parameter values, already percent-encoded (or deliberately not). */
  pathValues: Record<string, string>;
  /** Query pairs, already encoded. */
  query: Array<[string, string]>;
  headers: Array<[string, string]>;
  /** A JSON value (RawJson allowed inside); `undefined` sends no body. */
  json?: unknown;
  /** Exact body bytes; wins over `json`. */
  raw?: Buffer;
  /** A path suffix after the filled template ("/", "//x"), for structural cases. */
  pathSuffix?: string;
}

export const encodeQuery = (pairs: Array<[string, string]>) => pairs.map(([k, v]) => `${k}=${v}`).join("&");

export function buildApiRequest(op: Operation, parts: ApiParts): RawRequest {
  const path = fillPath(op.pathTemplate, parts.pathValues) + (parts.pathSuffix ?? "");
  const query = encodeQuery(parts.query);
  const body = parts.raw ?? (parts.json === undefined ? undefined : Buffer.from(toJsonText(parts.json), "utf8"));
  return {
    method: parts.method,
    path: query ? `${path}?${query}` : path,
    headers: parts.headers,
    ...(body ? { body } : {}),
  };
}

export function withParts(parts: ApiParts, change: Partial<ApiParts>): ApiParts {
  return { ...parts, ...change };
}

export const replaceHeader = (
  headers: Array<[string, string]>,
  name: string,
  value: string | null,
): Array<[string, string]> => [
  ...headers.filter(([n]) => n.toLowerCase() !== name.toLowerCase()),
  ...(value === null ? [] : ([[name, value]] as Array<[string, string]>)),
];
