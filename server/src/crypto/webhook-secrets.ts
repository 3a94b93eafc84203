/**
 * Endpoint secrets and the `v1` signature of Standard Webhooks 1.0: HMAC-SHA256 keyed with the secret's bytes (the
 * base64 after `whsec_`) over `<webhook-id>.<webhook-timestamp>.<body>`, sent base64 as `v1,<signature>`.
 */
import { createHmac, randomBytes } from "node:crypto";

const PREFIX = "whsec_";
/** 32 random bytes: the middle of the 24-64 the contract allows, and the HMAC-SHA256 block's natural key size. */
const SECRET_BYTES = 32;

export function newWebhookSecret(): string {
  return PREFIX + randomBytes(SECRET_BYTES).toString("base64");
}

/** What both signatures sign. */
export function signedContent(id: string, timestamp: number, body: string): string {
  return `${id}.${timestamp}.${body}`;
}

export function hmacSignature(secret: string, content: string): string {
  if (!secret.startsWith(PREFIX)) throw new Error("a webhook secret starts with whsec_");
  const key = Buffer.from(secret.slice(PREFIX.length), "base64");
  return createHmac("sha256", key).update(content, "utf8").digest("base64");
}
