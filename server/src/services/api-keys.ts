import type { Knex } from "knex";
import type { Deps } from "../deps.js";
import { AppError, notFound } from "../errors.js";
import { newId } from "../crypto/ids.js";
import { generateApiKey, hashSecret } from "../crypto/tokens.js";
import * as store from "../stores/api-keys.js";
import type { ApiKeyRow } from "../stores/api-keys.js";
import { iso, isoOrNull, type Schemas } from "./shapes.js";
import type { PageRequest } from "../domain/pagination.js";
import type { StoreResult } from "./idempotency.js";

const LAST_USED_RESOLUTION_MS = 60_000;
const KEY_FORMAT = /^mk_live_[1-9A-HJ-NP-Za-km-z]{20,64}$/;

export const toApiKey = (row: ApiKeyRow): Schemas["ApiKey"] => ({
  id: row.id,
  name: row.name,
  start: row.start,
  createdAt: iso(row.created_at),
  lastUsedAt: isoOrNull(row.last_used_at),
  revokedAt: isoOrNull(row.revoked_at),
});

/** A new key for the tenant, written in the caller's transaction. */
export async function issueApiKey(
  db: Knex.Transaction,
  tenantId: string,
  input: { name?: string | undefined },
): Promise<Schemas["ApiKeyWithSecret"]> {
  const key = generateApiKey();
  const row = await store.insertApiKey(db, {
    id: newId("key"),
    tenant_id: tenantId,
    name: input.name ?? null,
    start: key.start,
    secret_hash: key.hash,
  });
  return { id: row.id, name: row.name, start: row.start, secret: key.secret, createdAt: iso(row.created_at) };
}

/** The secret is shown once: a retry with the same Idempotency-Key replays it from the stored result. */
export async function createApiKey(
  deps: Pick<Deps, "db">,
  tenantId: string,
  input: { name?: string | undefined },
  storeResult?: StoreResult<Schemas["ApiKeyWithSecret"]>,
): Promise<Schemas["ApiKeyWithSecret"]> {
  return deps.db.transaction(async (trx) => {
    const apiKey = await issueApiKey(trx, tenantId, input);
    await storeResult?.(trx, apiKey);
    return apiKey;
  });
}

export async function listApiKeys(deps: Pick<Deps, "db">, tenantId: string, page: PageRequest) {
  return store.listApiKeys(deps.db, tenantId, page);
}

export async function revokeApiKey(deps: Pick<Deps, "db" | "clock">, tenantId: string, id: string): Promise<void> {
  const row = await deps.db.transaction((trx) => store.revokeApiKey(trx, tenantId, id, deps.clock.now()));
  if (!row) throw notFound("API key");
}

/**
 * When this replica last recorded each key's use. Authentication reads the lookup table only (the request names no
 * tenant yet), not the key's last_used_at, so this keeps the touch to about one a minute per key and replica;
 * the touch itself skips a key another replica touched within the minute. Bounded: a flood of keys only resets it.
 */
const lastTouched = new Map<string, number>();
const MAX_TOUCHED_KEYS = 10_000;

function dueForTouch(keyId: string, nowMs: number): boolean {
  const last = lastTouched.get(keyId);
  if (last !== undefined && nowMs - last <= LAST_USED_RESOLUTION_MS) return false;
  if (lastTouched.size >= MAX_TOUCHED_KEYS) lastTouched.clear();
  lastTouched.set(keyId, nowMs);
  return true;
}

/**
 * Resolves a bearer secret to its tenant. Every request reads Postgres, so a key revoked through any replica
 * is refused by all of them at once; the lookup is one primary-key probe of api_key_lookup. Unknown, revoked and
 * malformed keys are indistinguishable to the caller.
 */
export async function authenticateApiKey(deps: Pick<Deps, "db" | "clock" | "logger">, secret: string) {
  if (!KEY_FORMAT.test(secret)) throw new AppError("unauthorized", "A valid API key is required.");
  const row = await store.findActiveKeyByHash(deps.db, hashSecret(secret));
  if (!row) throw new AppError("unauthorized", "A valid API key is required.");
  const now = deps.clock.now();
  if (dueForTouch(row.id, now.getTime())) {
    // Bookkeeping, not on the request's path: a lost update only makes lastUsedAt a minute staler.
    store
      .touchApiKey(deps.db, row.tenant_id, row.id, now, LAST_USED_RESOLUTION_MS)
      .catch((err: unknown) => deps.logger.warn({ err }, "api key touch failed"));
  }
  return { tenantId: row.tenant_id, apiKeyId: row.id };
}
