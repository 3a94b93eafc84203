/**
 * Verifying event deliveries (Standard Webhooks 1.0). `verify` checks the `v1` HMAC with the endpoint's secret;
 * `verifyWithJwks` checks the `v1a` Ed25519 signature with the service's published JWK Set. Both refuse a timestamp
 * more than 5 minutes from now (a replayed delivery) and a body whose `id` is not its `webhook-id`.
 */
import { createHmac, createPublicKey, timingSafeEqual, verify as verifySignature, type KeyObject } from "node:crypto";
import type { HttpClient, RequestOptions } from "./http.js";
import type { Event, JwkSet } from "./types.js";

export type WebhookVerificationReason =
  | "missing_header"
  | "invalid_timestamp"
  | "timestamp_out_of_tolerance"
  | "no_matching_signature"
  | "invalid_secret"
  | "invalid_body";

export class WebhookVerificationError extends Error {
  override name = "WebhookVerificationError";
  constructor(
    readonly reason: WebhookVerificationReason,
    message: string,
  ) {
    super(message);
  }
}

/** Headers as Node (`req.headers`), fetch (`Headers`) or a plain record give them. */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined> | { get(name: string): string | null | undefined };

export interface VerifyOptions {
  /** How far the timestamp may be from now, in seconds. Default 300. */
  toleranceSeconds?: number;
  /** The clock (tests). */
  now?: () => Date;
}

export interface PublicJwk {
  kty: string;
  crv?: string;
  x?: string;
  kid?: string;
  [key: string]: unknown;
}

const SECRET_PREFIX = "whsec_";

function header(headers: WebhookHeaders, name: string): string | undefined {
  const get = (headers as { get?: unknown }).get;
  if (typeof get === "function") return (get as (n: string) => string | null | undefined).call(headers, name) ?? undefined;
  const record = headers as Record<string, string | string[] | undefined>;
  const value = record[name] ?? Object.entries(record).find(([k]) => k.toLowerCase() === name)?.[1];
  return Array.isArray(value) ? value.join(" ") : value;
}

const bodyBytes = (raw: string | Uint8Array): Buffer => (typeof raw === "string" ? Buffer.from(raw, "utf8") : Buffer.from(raw));

/**
 * `version,value` entries of webhook-signature. They are space-separated; a fetch `Headers` that received the header
 * twice joins the values with ", ", so a trailing comma left on an entry by that join is dropped.
 */
function signatureEntries(signature: string): { version: string; value: string }[] {
  return signature
    .split(/\s+/)
    .map((entry) => entry.replace(/,$/, ""))
    .filter((entry) => entry !== "")
    .map((entry) => {
      const comma = entry.indexOf(",");
      return comma === -1 ? { version: "", value: "" } : { version: entry.slice(0, comma), value: entry.slice(comma + 1) };
    });
}

/** The signed content and the signature entries, once the headers and timestamp are checked. */
function signedParts(rawBody: string | Uint8Array, headers: WebhookHeaders, opts: VerifyOptions) {
  const id = header(headers, "webhook-id");
  const timestamp = header(headers, "webhook-timestamp");
  const signature = header(headers, "webhook-signature");
  if (!id || !timestamp || !signature) {
    throw new WebhookVerificationError("missing_header", "webhook-id, webhook-timestamp and webhook-signature are required");
  }
  if (!/^\d{1,12}$/.test(timestamp)) throw new WebhookVerificationError("invalid_timestamp", "webhook-timestamp is not Unix seconds");
  const nowSeconds = Math.floor((opts.now?.() ?? new Date()).getTime() / 1000);
  if (Math.abs(nowSeconds - Number(timestamp)) > (opts.toleranceSeconds ?? 300)) {
    throw new WebhookVerificationError("timestamp_out_of_tolerance", "webhook-timestamp is too far from now");
  }
  // The exact bytes received are signed: a body that is not valid UTF-8 must not be normalised into a match.
  const body = bodyBytes(rawBody);
  const content = Buffer.concat([Buffer.from(`${id}.${timestamp}.`, "utf8"), body]);
  return { id, body: body.toString("utf8"), content, entries: signatureEntries(signature) };
}

function parseEvent(id: string, body: string): Event {
  let event: unknown;
  try {
    event = JSON.parse(body);
  } catch {
    throw new WebhookVerificationError("invalid_body", "the body is not JSON");
  }
  const e = event as { id?: unknown; type?: unknown };
  if (typeof event !== "object" || event === null || e.id !== id || typeof e.type !== "string") {
    throw new WebhookVerificationError("invalid_body", "the body is not the event named by webhook-id");
  }
  return event as Event;
}

function sameBase64(expected: Buffer, given: string): boolean {
  const buffer = Buffer.from(given, "base64");
  return buffer.length === expected.length && timingSafeEqual(buffer, expected);
}

/**
 * Verifies a delivery with the endpoint's `whsec_…` secret and returns the typed event. Pass the raw body exactly
 * as received (before any JSON parsing). Throws WebhookVerificationError.
 */
export function verifyWebhook(rawBody: string | Uint8Array, headers: WebhookHeaders, secret: string, opts: VerifyOptions = {}): Event {
  if (typeof secret !== "string" || !secret.startsWith(SECRET_PREFIX) || secret.length <= SECRET_PREFIX.length) {
    throw new WebhookVerificationError("invalid_secret", "the secret must be the endpoint's whsec_… value");
  }
  const { id, body, content, entries } = signedParts(rawBody, headers, opts);
  const key = Buffer.from(secret.slice(SECRET_PREFIX.length), "base64");
  const expected = createHmac("sha256", key).update(content).digest();
  if (!entries.some((e) => e.version === "v1" && sameBase64(expected, e.value))) {
    throw new WebhookVerificationError("no_matching_signature", "no v1 signature matches the secret");
  }
  return parseEvent(id, body);
}

/** The Ed25519 public keys of a JWK Set; a key node cannot import is skipped (it can verify nothing). */
function ed25519Keys(jwks: { keys: readonly PublicJwk[] }): KeyObject[] {
  const keys: KeyObject[] = [];
  for (const jwk of Array.isArray(jwks?.keys) ? jwks.keys : []) {
    if (jwk?.kty !== "OKP" || jwk.crv !== "Ed25519" || typeof jwk.x !== "string") continue;
    try {
      keys.push(createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x }, format: "jwk" }));
    } catch {
      // A malformed `x`: not a key.
    }
  }
  return keys;
}

function ed25519Verifies(content: Buffer, key: KeyObject, signature: Buffer): boolean {
  try {
    return verifySignature(null, content, key, signature);
  } catch {
    return false; // A signature of the wrong shape is simply not a match.
  }
}

/** Verifies the `v1a` (Ed25519) signature with keys from GET /.well-known/jwks.json. Throws WebhookVerificationError. */
export function verifyWebhookWithJwks(
  rawBody: string | Uint8Array,
  headers: WebhookHeaders,
  jwks: { keys: readonly PublicJwk[] },
  opts: VerifyOptions = {},
): Event {
  const { id, body, content, entries } = signedParts(rawBody, headers, opts);
  const keys = ed25519Keys(jwks);
  const ok = entries.some(
    (e) => e.version === "v1a" && keys.some((key) => ed25519Verifies(content, key, Buffer.from(e.value, "base64"))),
  );
  if (!ok) throw new WebhookVerificationError("no_matching_signature", "no v1a signature matches the published keys");
  return parseEvent(id, body);
}

/** `maskline.webhooks`, also usable on its own: `import { webhooks } from "@maskline/sdk"`. */
export class Webhooks {
  verify(rawBody: string | Uint8Array, headers: WebhookHeaders, secret: string, opts?: VerifyOptions): Event {
    return verifyWebhook(rawBody, headers, secret, opts);
  }

  verifyWithJwks(rawBody: string | Uint8Array, headers: WebhookHeaders, jwks: { keys: readonly PublicJwk[] }, opts?: VerifyOptions): Event {
    return verifyWebhookWithJwks(rawBody, headers, jwks, opts);
  }
}

export const webhooks = new Webhooks();

/** `maskline.webhooks`: the same checks, plus `fetchJwks()` through the client. */
export class ClientWebhooks extends Webhooks {
  readonly #http: HttpClient;

  constructor(http: HttpClient) {
    super();
    this.#http = http;
  }

  /**
   * `GET /.well-known/jwks.json`: the service's public keys for `verifyWithJwks`. Cache the result and refetch it now
   * and then: the keys change only when the operator rotates them.
   */
  fetchJwks(opts?: RequestOptions): Promise<JwkSet> {
    // The endpoint takes no auth, so the bearer token the client adds is dropped. "admin" is only the credential
    // that every client has (it falls back to the API key); no credential is sent either way.
    return this.#http.call("admin", opts, ({ headers, ...init }) => {
      const { Authorization: _dropped, ...rest } = headers;
      return this.#http.api.GET("/.well-known/jwks.json", { ...init, headers: rest });
    });
  }
}
