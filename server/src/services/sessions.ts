import type { Knex } from "knex";
import type { Deps } from "../deps.js";
import { AppError, notFound, validationFailed } from "../errors.js";
import { newId } from "../crypto/ids.js";
import { maskNumber, normalizeNumber } from "../phone/numbers.js";
import { chooseDid, effectiveStatus } from "../domain/allocation.js";
import * as store from "../stores/sessions.js";
import type { SessionRow, ParticipantView } from "../stores/sessions.js";
import { poolKey } from "./app-cache.js";
import { iso, isoOrNull, type Schemas } from "./shapes.js";
import type { StoreResult } from "../http/idempotency.js";

type CreateInput = Schemas["CreateSessionRequest"];
const DEFAULT_TTL_SECONDS = 3600;
/** Each lost race means a concurrent session committed a DID for this person, so this bounds the retries. */
const MAX_ALLOCATION_ATTEMPTS = 8;
const UNIQUE_VIOLATION = "23505";
const PAIRING_INDEX = "participants_active_pairing";

export function toSession(row: SessionRow, participants: ParticipantView[], now: Date): Schemas["Session"] {
  return {
    id: row.id,
    status: effectiveStatus(row, now),
    mode: row.mode,
    pool: row.pool,
    appId: row.app_id,
    reference: row.reference,
    metadata: row.metadata,
    createdAt: iso(row.created_at),
    expiresAt: iso(row.expires_at),
    closedAt: isoOrNull(row.closed_at),
    participants: participants
      .filter((p) => p.session_id === row.id)
      .sort((a, b) => a.position - b.position)
      .map((p) => ({ id: p.id, label: p.label, maskedNumber: p.masked_number, proxyNumber: p.proxy_e164 })),
  };
}

async function render(db: Knex, tenantId: string, rows: SessionRow[], now: Date) {
  const views = await store.participantViews(db, tenantId, rows.map((r) => r.id));
  return rows.map((r) => toSession(r, views, now));
}

/** A picked DID was released between reading the pool and allocating: pick again without it. */
class ReleasedDidError extends Error {
  constructor(readonly dids: string[]) {
    super("picked DID was released");
  }
}

type ParticipantInsert = Parameters<typeof store.insertSessionWithPair>[2][0];

const describeParticipant = (position: number, label: string | undefined) =>
  `participants[${position}]${label ? ` (${label})` : ""}`;

function isPairingConflict(err: unknown): boolean {
  const e = err as { code?: string; constraint?: string; message?: string };
  return e.code === UNIQUE_VIOLATION && (e.constraint === PAIRING_INDEX || Boolean(e.message?.includes(PAIRING_INDEX)));
}

/**
 * Opens a session: both participants get a DID in one transaction, or neither does. The partial unique index
 * on (tenant, DID, person) WHERE active is what makes concurrent allocations safe; this code only picks well
 * and retries when a concurrent session took the DID it picked.
 *
 * The hot path is short on purpose: pool members and the app come from memory (kv-invalidated caches), and the
 * transaction is three prepared statements (release ended rows and read held/last DIDs, share-lock the picks,
 * insert session and pair) with the response built from what was written, not read back.
 */
export async function createSession(
  deps: Pick<Deps, "db" | "keys" | "clock" | "appCache" | "poolCache">,
  tenantId: string,
  input: CreateInput,
  storeResult?: StoreResult<Schemas["Session"]>,
): Promise<Schemas["Session"]> {
  const poolName = input.pool ?? "default";
  const pool = await deps.poolCache.get(poolKey(tenantId, poolName));
  if (!pool) throw new AppError("not_found", `Pool '${poolName}' has no active numbers.`);
  const app = (await deps.appCache.get(pool.appId))?.row;
  if (!app || app.tenant_id !== tenantId) throw notFound("App");

  const people = input.participants.map((p, position) => {
    const e164 = normalizeNumber(p.number, app.default_country);
    if (!e164) {
      throw validationFailed([{ path: `/body/participants/${position}/number`, message: "is not a valid phone number" }]);
    }
    return { position, label: p.label, e164, bidx: deps.keys.blindIndex(e164) };
  });
  const [first, second] = people as [(typeof people)[0], (typeof people)[0]];
  if (first.bidx === second.bidx) {
    throw validationFailed([{ path: "/body/participants/1/number", message: "must differ from participants[0]" }]);
  }

  const e164ById = new Map(pool.dids.map((d) => [d.id, d.e164]));
  let poolIds = pool.dids.map((d) => d.id);
  const released = new Set<string>();
  const ttl = input.ttlSeconds ?? DEFAULT_TTL_SECONDS;
  const mode = input.mode ?? "two_way";
  const metadata = input.metadata ?? {};

  for (let attempt = 1; ; attempt++) {
    try {
      return await deps.db.transaction(async (trx) => {
        const now = deps.clock.now();
        // A lagging sweeper costs nothing: this pair's ended sessions free their DIDs right here.
        const rows = await store.releaseEndedAndReadPairDids(trx, tenantId, first.bidx, second.bidx, now);
        const picked = new Map<string, string>();
        for (const person of people) {
          const mine = rows.filter((r) => r.number_bidx === person.bidx);
          const did = chooseDid({
            poolDidIds: poolIds,
            heldDidIds: new Set(mine.filter((r) => r.kind === "held").map((r) => r.proxy_number_id)),
            lastDidId: mine.find((r) => r.kind === "last")?.proxy_number_id ?? null,
            avoidDidId: person.position === 1 ? picked.get(first.bidx) : null,
          });
          if (!did) {
            throw new AppError(
              "pool_exhausted",
              `No free masking number in pool '${poolName}' for ${describeParticipant(person.position, person.label)}: ` +
                `they are already in as many open sessions as the pool has numbers (${poolIds.length}).`,
            );
          }
          picked.set(person.bidx, did);
        }
        const didA = picked.get(first.bidx)!;
        const didB = picked.get(second.bidx)!;
        // The pool came from a cache; a DID released since must not get a participant. FOR SHARE does not block
        // concurrent sessions on the same DID, only a release (FOR UPDATE).
        const stillActive = await store.lockPickedDids(trx, tenantId, didA, didB);
        const gone = [didA, didB].filter((d) => !stillActive.has(d));
        if (gone.length > 0) throw new ReleasedDidError(gone);

        const session: SessionRow = {
          id: newId("ses"),
          tenant_id: tenantId,
          app_id: app.id,
          pool: poolName,
          mode,
          status: "open",
          reference: input.reference ?? null,
          metadata,
          created_at: now,
          expires_at: new Date(now.getTime() + ttl * 1000),
          closed_at: null,
        };
        const pair = people.map((p) => ({
          id: newId("par"),
          tenant_id: tenantId,
          session_id: session.id,
          position: p.position,
          label: p.label ?? null,
          number_enc: deps.keys.encrypt(p.e164),
          number_bidx: p.bidx,
          masked_number: maskNumber(p.e164),
          proxy_number_id: picked.get(p.bidx)!,
        })) as [ParticipantInsert, ParticipantInsert];
        await store.insertSessionWithPair(trx, session, pair);
        const views = pair.map((p) => ({ ...p, proxy_e164: e164ById.get(p.proxy_number_id)! }));
        const created = toSession(session, views, now);
        await storeResult?.(trx, created);
        return created;
      });
    } catch (err) {
      if (err instanceof ReleasedDidError) {
        err.dids.forEach((d) => released.add(d));
        poolIds = poolIds.filter((id) => !released.has(id));
        continue;
      }
      if (!isPairingConflict(err)) throw err;
      // A concurrent session committed a DID we picked. Postgres reports the violation only after that session
      // committed, so the next attempt's read of held DIDs already sees it (excluding our picks would also drop
      // the other participant's perfectly good DID and report a false pool_exhausted).
      if (attempt >= MAX_ALLOCATION_ATTEMPTS) {
        throw new AppError("conflict", "Too many concurrent sessions for these participants; retry.", { cause: err });
      }
    }
  }
}

export async function getSession(deps: Pick<Deps, "db" | "clock">, tenantId: string, id: string) {
  const row = await store.findSession(deps.db, tenantId, id);
  if (!row) throw notFound("Session");
  const [session] = await render(deps.db, tenantId, [row], deps.clock.now());
  return session!;
}

export async function listSessions(deps: Pick<Deps, "db" | "clock">, tenantId: string, filter: store.SessionFilter) {
  const now = deps.clock.now();
  const rows = await store.listSessions(deps.db, tenantId, filter, now);
  const views = await store.participantViews(deps.db, tenantId, rows.slice(0, filter.limit).map((r) => r.id));
  return { rows, shape: (r: SessionRow) => toSession(r, views, now) };
}

/**
 * Closing is idempotent: a closed (or expired) session is returned as it is. The answer is read inside the
 * transaction, so the stored idempotent result is the state this close committed.
 */
export async function closeSession(
  deps: Pick<Deps, "db" | "clock">,
  tenantId: string,
  id: string,
  storeResult?: StoreResult<Schemas["Session"]>,
) {
  return deps.db.transaction(async (trx) => {
    const now = deps.clock.now();
    const row = (await store.closeSession(trx, tenantId, id, now)) ?? (await store.findSession(trx, tenantId, id));
    if (!row) throw notFound("Session");
    // Closed now, or expired but not yet swept: either way nobody routes through it any more.
    await store.releaseSessionParticipants(trx, tenantId, [id], now);
    const [session] = await render(trx, tenantId, [row], now);
    await storeResult?.(trx, session!);
    return session!;
  });
}

/** Extends (ttlSeconds counts from now) and/or replaces metadata. An ended session cannot be revived. */
export async function updateSession(
  deps: Pick<Deps, "db" | "clock">,
  tenantId: string,
  id: string,
  input: Schemas["UpdateSessionRequest"],
) {
  await deps.db.transaction(async (trx) => {
    const row = await store.findSession(trx, tenantId, id, { forUpdate: true });
    if (!row) throw notFound("Session");
    const now = deps.clock.now(); // read after the lock: a release that held it has committed by now
    const patch: Parameters<typeof store.updateSession>[3] = {};
    if (input.ttlSeconds !== undefined) {
      const status = effectiveStatus(row, now);
      if (status !== "open") throw new AppError("conflict", `The session is ${status}; open a new one instead.`);
      // An allocation on another replica (its clock a little ahead) may have released it at its expiry instant;
      // extending it then would report an open session that no longer routes.
      if (await store.hasReleasedParticipants(trx, tenantId, id)) {
        throw new AppError("conflict", "The session has ended and no longer connects calls; open a new one instead.");
      }
      patch.expires_at = new Date(now.getTime() + input.ttlSeconds * 1000);
    }
    if (input.metadata !== undefined) patch.metadata = input.metadata;
    await store.updateSession(trx, tenantId, id, patch);
  });
  return getSession(deps, tenantId, id);
}
