/**
 * Network failures as the short, stable words a delivery record keeps. Only an error's code is ever used, never
 * its message: messages can name the host, the path or the query, and a query can carry a tenant's token.
 */

/** Thrown into a connection by our `lookup` when the host resolves to an address the policy refuses. */
export const BLOCKED_ADDRESS = "ERR_MASKLINE_BLOCKED_ADDRESS";
/** Thrown into a connection by our `lookup` when the resolver fails or finds nothing. */
export const DNS_FAILURE = "ERR_MASKLINE_DNS_FAILURE";

export function codedError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(code), { code });
}

const BY_CODE: Record<string, string> = {
  [BLOCKED_ADDRESS]: "blocked address",
  [DNS_FAILURE]: "dns failure",
  ENOTFOUND: "dns failure",
  EAI_AGAIN: "dns failure",
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  EPIPE: "connection reset",
  ETIMEDOUT: "timeout",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
};

/** OpenSSL's certificate-verification codes that name no CERT, and the codes of a failed handshake. */
const TLS_CODES = new Set(["UNABLE_TO_VERIFY_LEAF_SIGNATURE", "INVALID_CA", "PATH_LENGTH_EXCEEDED", "INVALID_PURPOSE", "HOSTNAME_MISMATCH", "EPROTO"]);

export function describeNetworkError(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  // A code is an identifier; anything else is not repeated.
  if (typeof code !== "string" || !/^[A-Z][A-Z0-9_]{0,63}$/.test(code)) return "network error";
  const known = BY_CODE[code];
  if (known) return known;
  if (TLS_CODES.has(code) || /^ERR_(TLS|SSL)_|CERT/.test(code)) return `tls error: ${code}`;
  return `network error: ${code}`;
}

/** A failure that, on a pooled keep-alive socket, means the receiver had closed it while idle: safe to retry once. */
export function isStaleSocketError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === "ECONNRESET" || code === "EPIPE";
}
