/** Vobiz nonces are random per request; remembering them this long covers any plausible retry or replay window. */
export const NONCE_TTL_MS = 15 * 60_000;
