/**
 * Verifying event deliveries (Standard Webhooks 1.0). `verify` checks the `v1` HMAC with the endpoint's secret;
 * `verifyWithJwks` checks the `v1a` Ed25519 signature with the service's published JWK Set. Both refuse a timestamp
 * more than 5 minutes from now (a replayed delivery) and a body whose `id` is not its `webhook-id`.
 */
import { createHmac, createPublicKey, timingSafeEqual, verify as verifySignature } from "node:crypto";
import type { Event } from "./types.js";

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

const bodyText = (raw: string | Uint8Array) => (typeof raw === "string" ? raw : Buffer.from(raw).toString("utf8"));

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
  const body = bodyText(rawBody);
  const entries = signature.split(" ").map((entry) => {
    const comma = entry.indexOf(",");
    return comma === -1 ? { version: "", value: "" } : { version: entry.slice(0, comma), value: entry.slice(comma + 1) };
  });
  return { id, body, content: `${id}.${timestamp}.${body}`, entries };
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
  const expected = createHmac("sha256", key).update(content, "utf8").digest();
  if (!entries.some((e) => e.version === "v1" && sameBase64(expected, e.value))) {
    throw new WebhookVerificationError("no_matching_signature", "no v1 signature matches the secret");
  }
  return parseEvent(id, body);
}

/** Verifies the `v1a` (Ed25519) signature with keys from GET /.well-known/jwks.json. Throws WebhookVerificationError. */
export function verifyWebhookWithJwks(
  rawBody: string | Uint8Array,
  headers: WebhookHeaders,
  jwks: { keys: readonly PublicJwk[] },
  opts: VerifyOptions = {},
): Event {
  const { id, body, content, entries } = signedParts(rawBody, headers, opts);
  const keys = (jwks?.keys ?? []).filter((k) => k.kty === "OKP" && k.crv === "Ed25519").map((jwk) => createPublicKey({ key: jwk as never, format: "jwk" }));
  const data = Buffer.from(content, "utf8");
  const ok = entries.some(
    (e) => e.version === "v1a" && keys.some((key) => verifySignature(null, data, key, Buffer.from(e.value, "base64"))),
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
