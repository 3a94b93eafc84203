import type { Knex } from "knex";
import type { Logger } from "pino";
import type { Kv } from "../kv/kv.js";
import type { Deadline } from "../time/deadline.js";
import { recordNonce } from "../stores/webhook-nonces.js";
import { NONCE_TTL_MS } from "../domain/replay-window.js";

/**
 * Replay refusal for carrier callbacks. Vobiz signs only the URL and a nonce, not the fields, so a captured request
 * replayed under its nonce could carry any From/To: a nonce is accepted once. The carrier itself may retry a
 * request with the same nonce; that is recognised by its fingerprint (endpoint, CallUUID, Event) and let through as
 * the retry it is (the CallUUID's stored reply answers it).
 *
 * Redis is the fast path. When it is slow, that request asks the ledger in Postgres; when a write to it fails, the
 * ledger keeps being written for one replay window after the last failure: nonces seen during the outage must still
 * be refused once Redis is back.
 * A nonce seen only by Redis before it failed is the one residual gap (documented in docs; the URL secret and the
 * signature still stand in front of it).
 */
export type NonceVerdict = "fresh" | "retry" | "replay";

export interface ReplayGuard {
  check(key: { tenantId: string; appId: string; nonce: string }, fingerprint: string, deadline: Deadline): Promise<NonceVerdict>;
}

/** Redis answers in well under a millisecond; past this it is treated as away and Postgres decides. */
const KV_STEP_MS = 150;

const verdictOf = (existing: string | null, fingerprint: string): NonceVerdict =>
  existing === null ? "fresh" : existing === fingerprint ? "retry" : "replay";

const worst = (a: NonceVerdict, b: NonceVerdict): NonceVerdict =>
  a === "replay" || b === "replay" ? "replay" : a === "retry" || b === "retry" ? "retry" : "fresh";

export function createReplayGuard(deps: { db: Knex; kv: Kv; logger: Logger; now?: () => number }): ReplayGuard {
  const now = deps.now ?? Date.now;
  let ledgerUntil = 0;

  return {
    async check(key, fingerprint, deadline) {
      const kvKey = `vobiz:nonce:${key.appId}:${key.nonce}`;
      let fromKv: NonceVerdict | null = null;
      const kvWrite = deps.kv.putIfAbsent(kvKey, fingerprint, NONCE_TTL_MS);
      try {
        fromKv = verdictOf(await deadline.runCapped(kvWrite, KV_STEP_MS), fingerprint);
      } catch {
        // Not waited for any longer: this request asks the ledger. Whether later ones must too depends on whether
        // Redis lost this nonce. A write that is only late (Redis slow, or this request's own deadline nearly spent
        // by a queue in front of it) still lands, and Redis refuses the nonce from then on; only a write that fails
        // (an error, or the client's command timeout on a hung Redis) leaves a nonce Redis never saw.
        kvWrite.then(undefined, (err: unknown) => {
          if (now() >= ledgerUntil) deps.logger.warn({ err }, "replay check: kv unavailable, using the Postgres ledger");
          ledgerUntil = now() + NONCE_TTL_MS;
        });
      }
      if (fromKv !== null && now() >= ledgerUntil) return fromKv;
      const fromLedger = verdictOf(await deadline.run(recordNonce(deps.db, key, fingerprint)), fingerprint);
      return fromKv === null ? fromLedger : worst(fromKv, fromLedger);
    },
  };
}
