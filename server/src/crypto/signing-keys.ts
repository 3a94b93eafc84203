/**
 * The service's Ed25519 keys for event signatures (`v1a` of Standard Webhooks): the first key signs, and every key
 * is published as a JWK Set at /.well-known/jwks.json, so a receiver verifies with the public half only and a
 * rotation (new key first, old one kept listed for a while) breaks no one who refetches on an unknown `kid`.
 */
import { createPrivateKey, createPublicKey, sign, type KeyObject } from "node:crypto";
import { calculateJwkThumbprint, exportJWK } from "jose";
import type { SigningKeySpec } from "../config.js";

export interface PublicJwk {
  kty: "OKP";
  crv: "Ed25519";
  x: string;
  kid: string;
  alg: "EdDSA";
  use: "sig";
}

export interface SigningKeys {
  /** The key id of the key that signs. */
  readonly kid: string;
  /** Base64 Ed25519 signature of `content` with the signing key. */
  sign(content: string): string;
  /** The public halves of every configured key, signing key first. */
  readonly jwks: { readonly keys: readonly PublicJwk[] };
}

// PKCS#8 DER for an Ed25519 private key is this fixed prefix followed by the 32-byte seed (RFC 8410).
const PKCS8_ED25519_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

function privateKeyOf(seed: string): KeyObject {
  const bytes = Buffer.from(seed, "base64");
  if (bytes.length !== 32) throw new Error("an Ed25519 seed is 32 bytes");
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, bytes]), format: "der", type: "pkcs8" });
}

export async function createSigningKeys(specs: readonly SigningKeySpec[]): Promise<SigningKeys> {
  if (specs.length === 0) throw new Error("at least one signing key is required");
  const keys = await Promise.all(
    specs.map(async (spec) => {
      const privateKey = privateKeyOf(spec.seed);
      const jwk = await exportJWK(createPublicKey(privateKey));
      const kid = spec.kid ?? (await calculateJwkThumbprint(jwk, "sha256"));
      const published: PublicJwk = { kty: "OKP", crv: "Ed25519", x: jwk.x!, kid, alg: "EdDSA", use: "sig" };
      return { privateKey, published };
    }),
  );
  const signer = keys[0]!;
  const jwks = Object.freeze({ keys: Object.freeze(keys.map((k) => Object.freeze(k.published))) });
  return Object.freeze({
    kid: signer.published.kid,
    sign: (content: string) => sign(null, Buffer.from(content, "utf8"), signer.privateKey).toString("base64"),
    jwks,
  });
}
