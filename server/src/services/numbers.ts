import type { Deps } from "../deps.js";
import { AppError, notFound, validationFailed, type FieldError } from "../errors.js";
import { newId } from "../crypto/ids.js";
import { normalizeNumber } from "../phone/numbers.js";
import { findApp } from "../stores/apps.js";
import { poolKey } from "./caches.js";
import * as store from "../stores/numbers.js";
import type { NumberRow, NumberFilter } from "../stores/numbers.js";
import { SCHEMA_DEFAULTS } from "@maskline/openapi/constants";
import { iso, type Schemas } from "./shapes.js";
import type { StoreResult } from "./idempotency.js";

/** The spec's pool for an import that names none (validation has already filled it in). */
const DEFAULT_POOL = SCHEMA_DEFAULTS.ImportNumbersRequest.pool;
const UNIQUE_VIOLATION = "23505";
/** A unique violation means a concurrent import committed first; one re-read then tells us what it took. */
const MAX_IMPORT_ATTEMPTS = 3;
/** How many conflicting DIDs a 409's detail names. */
const MAX_NAMED_CONFLICTS = 10;

export const toNumber = (row: NumberRow): Schemas["MaskingNumber"] => ({
  id: row.id,
  number: row.e164,
  appId: row.app_id,
  pool: row.pool,
  status: row.status,
  createdAt: iso(row.created_at),
});

const isUniqueViolation = (err: unknown) => (err as { code?: string }).code === UNIQUE_VIOLATION;

function conflictFor(problems: string[]): AppError {
  const named = problems.slice(0, MAX_NAMED_CONFLICTS).join("; ");
  const more = problems.length > MAX_NAMED_CONFLICTS ? `; and ${problems.length - MAX_NAMED_CONFLICTS} more` : "";
  return new AppError("conflict", `Nothing was imported: ${named}${more}.`);
}

/**
 * Imports DIDs into a pool of one of the tenant's apps, all or nothing. A DID belongs to one app of one tenant
 * (the global number_claims row, whose primary key settles concurrent imports), and a pool to one app.
 * Re-importing a DID already active in the same app and pool returns it unchanged.
 */
/** Pool membership is cached for the allocator; every import and release drops it on every replica. */
async function poolChanged(deps: Pick<Deps, "poolCache" | "logger">, tenantId: string, pool: string) {
  await deps.poolCache
    .invalidate(poolKey(tenantId, pool))
    .catch((err: unknown) => deps.logger.warn({ err }, "pool cache notice not sent; the cache's TTL bounds staleness"));
}

export async function importNumbers(
  deps: Pick<Deps, "db" | "poolCache" | "logger">,
  tenantId: string,
  input: Schemas["ImportNumbersRequest"],
  storeResult?: StoreResult<Schemas["NumberImportResult"]>,
): Promise<Schemas["NumberImportResult"]> {
  const app = await findApp(deps.db, tenantId, input.appId);
  if (!app) throw notFound("App");
  const pool = input.pool ?? DEFAULT_POOL;

  const errors: FieldError[] = [];
  const firstIndex = new Map<string, number>();
  input.numbers.forEach((raw, i) => {
    const e164 = normalizeNumber(raw, app.default_country);
    if (!e164) errors.push({ path: `/body/numbers/${i}`, message: "is not a valid phone number" });
    else if (!firstIndex.has(e164)) firstIndex.set(e164, i);
  });
  if (errors.length) throw validationFailed(errors);
  const wanted = [...firstIndex.keys()];

  for (let attempt = 1; ; attempt++) {
    try {
      const result = await deps.db.transaction(async (trx) => {
        await store.lockPoolForImport(trx, tenantId, pool);
        const owner = await store.otherAppInPool(trx, tenantId, pool, app.id);
        if (owner) {
          throw new AppError("conflict", `Pool '${pool}' belongs to app ${owner.app_id}; use another pool name for this app.`);
        }

        const claims = await store.claimsFor(trx, wanted);
        const ownIds = claims.filter((c) => c.tenant_id === tenantId).map((c) => c.number_id);
        const own = new Map((await store.findNumbersByIds(trx, tenantId, ownIds)).map((n) => [n.id, n]));
        const existing = new Map<string, NumberRow>();
        const problems: string[] = [];
        for (const claim of claims) {
          const label = `numbers[${firstIndex.get(claim.e164)}] (${claim.e164})`;
          // Whose claim it is stays unsaid: only that it is not this tenant's.
          if (claim.tenant_id !== tenantId) {
            problems.push(`${label} is held by another account`);
            continue;
          }
          const n = own.get(claim.number_id);
          if (!n || n.status !== "active") problems.push(`${label} is being changed; retry`);
          else if (n.app_id !== app.id) problems.push(`${label} belongs to app ${n.app_id}`);
          else if (n.pool !== pool) problems.push(`${label} is already in pool '${n.pool}'`);
          else existing.set(claim.e164, n);
        }
        if (problems.length) throw conflictFor(problems);

        const fresh = wanted
          .filter((e164) => !existing.has(e164))
          .map((e164) => ({ id: newId("num"), tenant_id: tenantId, app_id: app.id, e164, pool }));
        const inserted = await store.insertNumbers(trx, fresh);
        await store.insertClaims(
          trx,
          inserted.map((n) => ({ e164: n.e164, tenant_id: tenantId, number_id: n.id })),
        );
        const byE164 = new Map<string, NumberRow>([...existing, ...inserted.map((n) => [n.e164, n] as const)]);
        const imported = { data: wanted.map((e164) => toNumber(byE164.get(e164)!)) };
        await storeResult?.(trx, imported);
        return imported;
      });
      await poolChanged(deps, tenantId, pool);
      return result;
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      // A concurrent import claimed one of these DIDs first; the next attempt sees whose it is.
      if (attempt >= MAX_IMPORT_ATTEMPTS) {
        throw new AppError("conflict", "A concurrent import claimed some of these numbers; retry.", { cause: err });
      }
    }
  }
}

export async function listNumbers(deps: Pick<Deps, "db">, tenantId: string, filter: NumberFilter) {
  return store.listNumbers(deps.db, tenantId, filter);
}

export async function getNumber(deps: Pick<Deps, "db">, tenantId: string, id: string): Promise<Schemas["MaskingNumber"]> {
  const row = await store.findNumber(deps.db, tenantId, id);
  if (!row) throw notFound("Number");
  return toNumber(row);
}

/**
 * Releases a DID from its pool: refused while an open, unexpired session uses it; releasing twice is fine.
 *
 * The number row is locked FOR UPDATE first and the in-use check runs after the lock (a fresh snapshot under
 * READ COMMITTED). A session whose participant insert got in first holds a key-share lock on the number row
 * (the foreign key), so this waits for it to commit and then sees it: 409. The other order (this release locks
 * first, an allocator that read the pool earlier inserts afterwards) is only closed when the allocator checks
 * the DIDs it picked with lockPickedDids (stores/sessions.ts) inside its transaction, which it does.
 * The sessions on the DID are share-locked before the check, so a PATCH extending one of them at its expiry
 * instant is seen (409) rather than released under it.
 */
export async function releaseNumber(
  deps: Pick<Deps, "db" | "clock" | "poolCache" | "logger">,
  tenantId: string,
  id: string,
): Promise<void> {
  const pool = await deps.db.transaction(async (trx) => {
    const row = await store.findNumberForUpdate(trx, tenantId, id);
    if (!row) throw notFound("Number");
    if (row.status === "released") return null;
    await store.lockSessionsUsing(trx, tenantId, id);
    const now = deps.clock.now(); // after the lock, like the snapshot of the check below
    if (await store.inOpenSession(trx, tenantId, id, now)) {
      throw new AppError("conflict", "An open session uses this number; close the session (or let it expire) first.");
    }
    await store.releaseEndedParticipantsOn(trx, tenantId, id, now);
    await store.markReleased(trx, tenantId, id, now);
    await store.deleteClaim(trx, row.e164, id);
    return row.pool;
  });
  if (pool !== null) await poolChanged(deps, tenantId, pool);
}
