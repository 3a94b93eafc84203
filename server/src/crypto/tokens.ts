/**
 * Random secrets and comparisons: API keys, opaque tokens, the master key from config.
 *
 * API keys are shown once and stored only as sha256. A plain, unkeyed hash is enough here because the
 * secrets are 192 bits of randomness: there is nothing to brute-force, and not tying the hash to the master key means
 * rotating the encryption key never invalidates anyone's API key.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

const API_KEY_PREFIX = "mk_live_";
/** Characters of the secret stored/displayed to identify a key ("mk_live_AbCd"): enough to tell keys apart, far too few to guess. */
const API_KEY_START_LENGTH = 12;
const BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

function sha256Hex(value: string): string {
  return createHash("sha256").update(value, "utf8").digest("hex");
}

/** sha256 hex of an API key secret: the value stored in `api_keys` and looked up on authentication. */
export function hashSecret(secret: string): string {
  return sha256Hex(secret);
}

/**
 * Base58 (Bitcoin alphabet): no `0/O/I/l` look-alikes and no punctuation, so a key survives double-click selection,
 * copy/paste from e-mail, and being read out on a support call. Keys are short, so the BigInt version is plenty fast.
 */
export function base58Encode(bytes: Uint8Array): string {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  let out = "";
  while (n > 0n) {
    out = BASE58_ALPHABET[Number(n % 58n)] + out;
    n /= 58n;
  }
  // Each leading zero byte is a leading "1" (otherwise it would vanish in the integer conversion).
  for (const b of bytes) {
    if (b !== 0) break;
    out = "1" + out;
  }
  return out;
}

export interface GeneratedApiKey {
  /** The full secret: shown to the user exactly once, never stored. */
  secret: string;
  /** Display prefix kept in the database so users can recognise a key in lists. */
  start: string;
  /** sha256 hex of `secret`: what the database stores and what authentication looks up. */
  hash: string;
}

export function generateApiKey(): GeneratedApiKey {
  const secret = API_KEY_PREFIX + base58Encode(randomBytes(24));
  return { secret, start: secret.slice(0, API_KEY_START_LENGTH), hash: hashSecret(secret) };
}

/** An opaque random token (URL secrets, nonces), base64url so it can sit in a URL or header unescaped. */
export function generateToken(bytes = 32): string {
  if (!Number.isInteger(bytes) || bytes < 16) throw new RangeError("generateToken: need at least 16 bytes");
  return randomBytes(bytes).toString("base64url");
}

/**
 * Compare two secrets without leaking where they differ or how long the expected one is: both sides are hashed to 32
 * bytes first, so `timingSafeEqual` always sees equal lengths (it throws otherwise, and an early length check leaks).
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const ha = createHash("sha256").update(a, "utf8").digest();
  const hb = createHash("sha256").update(b, "utf8").digest();
  return timingSafeEqual(ha, hb);
}

/**
 * Parse the 32-byte master key from its base64 (or base64url) text form. Error messages never include the input: it
 * is a secret, and config errors get printed.
 */
export function parseMasterKey(b64: string): Buffer {
  const text = b64.trim();
  // Buffer.from(…, "base64") silently skips invalid characters, so validate the alphabet ourselves.
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) {
    throw new Error("master key must be base64-encoded 32 bytes (got text that is not base64)");
  }
  const key = Buffer.from(text, "base64");
  if (key.length !== 32) {
    throw new Error(`master key must be exactly 32 bytes after base64 decoding (got ${key.length})`);
  }
  // An all-zero key is a placeholder left in a config file, not a key.
  if (key.every((b) => b === 0)) throw new Error("master key must not be all zero bytes");
  return key;
}
