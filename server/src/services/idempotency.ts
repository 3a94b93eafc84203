/**
 * `Idempotency-Key` claims: taking a key, waiting for whoever holds it, storing the result exactly once. The HTTP
 * middleware (http/idempotency.ts) decides which requests have a key and what they answer; this is the rule.
 */
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { Knex } from "knex";
import type { Deps } from "../deps.js";
import { AppError } from "../errors.js";
import * as store from "../stores/idempotency.js";
import type { IdempotencyRef } from "../stores/idempotency.js";

/** Which request a key is for: who sent it, the key, and the operation with its path parameters. */
export type { IdempotencyRef };

export interface ClaimTiming {
  /** How long a duplicate waits for the request holding the key before answering 409 `conflict`. */
  waitMs: number;
  /**
   * A claim not renewed for this long belongs to a request that died (a killed process): the next one may take it
   * over. A live request renews its claim every third of this (the middleware's renewal), however long it runs.
   */
  abandonedAfterMs: number;
  /** The wait between polls starts here and doubles up to maxPollMs: quick for short requests, cheap for long ones. */
  firstPollMs: number;
  maxPollMs: number;
}

export const DEFAULT_CLAIM_TIMING: Readonly<ClaimTiming> = Object.freeze({
  waitMs: 15_000,
  abandonedAfterMs: 6_000,
  firstPollMs: 25,
  maxPollMs: 250,
});

const stillInProgress = () =>
  new AppError("conflict", "A request with this Idempotency-Key is still in progress; retry shortly.");

/**
 * The key as this request holds it. The token is what makes every write exact: storing the result, releasing
 * the key and a takeover all match on it, so a request whose claim was taken over cannot overwrite or delete
 * the new holder's row.
 */
export class IdempotencyClaim {
  #storedInTransaction = false;

  constructor(
    private readonly deps: Pick<Deps, "db" | "keys">,
    readonly ref: IdempotencyRef,
    readonly token: string,
  ) {}

  /** True once an operation stored its result inside its own transaction; the middleware then has nothing to do. */
  get storedInTransaction(): boolean {
    return this.#storedInTransaction;
  }

  /**
   * Stores `body` as the result, in the operation's transaction, so the result and what it describes commit
   * together or not at all. Throws 409 `conflict` when a retry took the claim over meanwhile: the transaction
   * must roll back, because the retry is now the one that creates it.
   */
  async complete(trx: Knex.Transaction, status: number, body: unknown, subjects: readonly string[] = []): Promise<void> {
    if (!(await store.completeIdempotencyKey(trx, this.ref, this.token, status, this.encrypt(body), subjects))) {
      throw new AppError("conflict", "This request ran so long that a retry with its Idempotency-Key took over; the retry's result stands.");
    }
    this.#storedInTransaction = true;
  }

  /** For an operation that committed without storing its result: false when the claim was taken over since. */
  async completeAfterCommit(status: number, body: unknown): Promise<boolean> {
    return store.completeIdempotencyKey(this.deps.db, this.ref, this.token, status, this.encrypt(body));
  }

  /**
   * Replaces the result this claim stored: for an operation whose outcome is only settled after its first commit
   * (a call placed at the carrier). False when the claim was taken over since.
   */
  async replace(trx: Knex.Transaction, status: number, body: unknown): Promise<boolean> {
    return store.replaceIdempotentResult(trx, this.ref, this.token, status, this.encrypt(body));
  }

  /** Forgets this claim and any result it stored, so a retry runs again (the operation turned out to do nothing). */
  async withdraw(): Promise<void> {
    await store.withdrawIdempotencyKey(this.deps.db, this.ref, this.token);
  }

  async renew(): Promise<void> {
    await store.renewIdempotencyKey(this.deps.db, this.ref, this.token);
  }

  async release(): Promise<void> {
    await store.releaseIdempotencyKey(this.deps.db, this.ref, this.token);
  }

  // Stored encrypted: a replayed response can hold a secret (a new API key) or masked personal data.
  private encrypt(body: unknown): string {
    return this.deps.keys.encrypt(JSON.stringify(body ?? null));
  }
}

/**
 * How a service stores its response as the idempotent result: inside its transaction, just before commit.
 * `subjects`: the blind indexes of the people the request named, so an erasure of one finds the stored request.
 */
export type StoreResult<T> = (trx: Knex.Transaction, body: T, subjects?: readonly string[]) => Promise<void>;

/**
 * For an operation that commits before it knows its outcome (it asks the carrier afterwards): the result is stored
 * with the first commit, so a retry after a crash never repeats what may have happened; then it is replaced by the
 * settled answer, or withdrawn when the operation turned out to do nothing (a retry may then run it again).
 */
export interface SettlingResult<T> {
  store: StoreResult<T>;
  replace(trx: Knex.Transaction, body: T): Promise<void>;
  withdraw(): Promise<void>;
}

export type Acquired = { claim: IdempotencyClaim } | { replay: { status: number; body: unknown } };

/**
 * Claims the key, or waits for whoever holds it. Every path that does not return sleeps before it polls again,
 * and the whole wait is bounded by `timing.waitMs`: a key held by a running request, one released between our
 * insert and our read, or one lost to a concurrent takeover all cost a few statements per poll, never a spin.
 */
export async function acquireIdempotencyKey(
  deps: Pick<Deps, "db" | "keys">,
  ref: IdempotencyRef,
  /** The request's keyed hash under every live key, the current one first (a rotation must not turn a retry into a 409). */
  requestHashes: readonly string[],
  timing: ClaimTiming = DEFAULT_CLAIM_TIMING,
): Promise<Acquired> {
  const deadline = Date.now() + timing.waitMs;
  for (let pollMs = timing.firstPollMs; ; pollMs = Math.min(pollMs * 2, timing.maxPollMs)) {
    const token = randomUUID();
    if (await store.claimIdempotencyKey(deps.db, { ...ref, request_hash: requestHashes[0]!, claim_token: token })) {
      return { claim: new IdempotencyClaim(deps, ref, token) };
    }
    const existing = await store.findIdempotencyKey(deps.db, ref, timing.abandonedAfterMs);
    if (existing) {
      if (!requestHashes.includes(existing.request_hash)) {
        throw new AppError("idempotency_conflict", "This Idempotency-Key was already used with a different request body.");
      }
      if (existing.completed_at && existing.status_code && existing.response_enc) {
        return { replay: { status: existing.status_code, body: JSON.parse(deps.keys.decrypt(existing.response_enc)) } };
      }
      if (
        existing.abandoned &&
        (await store.takeOverIdempotencyKey(deps.db, ref, timing.abandonedAfterMs, existing.claim_token, token))
      ) {
        return { claim: new IdempotencyClaim(deps, ref, token) };
      }
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw stillInProgress();
    await sleep(Math.min(pollMs, remaining));
  }
}
