import type { Knex } from "knex";
import type { Deps } from "../deps.js";
import { AppError, notFound, validationFailed } from "../errors.js";
import { newId } from "../crypto/ids.js";
import { maskNumber, normalizeNumber } from "../phone/numbers.js";
import { chooseDid, effectiveStatus } from "../domain/allocation.js";
import * as numbers from "../stores/numbers.js";
import * as store from "../stores/sessions.js";
import type { SessionRow, ParticipantView } from "../stores/sessions.js";
import { findApp } from "../stores/apps.js";
import { iso, isoOrNull, type Schemas } from "./shapes.js";

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
  constructor(readonly picks: Array<[string, string]>) {
    super("picked DID was released");
  }
}

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
 */
export async function createSession(deps: Pick<Deps, "db" | "keys" | "clock">, tenantId: string, input: CreateInput) {
  const poolName = input.pool ?? "default";
  const pool = await numbers.activePoolNumbers(deps.db, tenantId, poolName);
  if (pool.length === 0) throw new AppError("not_found", `Pool '${poolName}' has no active numbers.`);
  const appId = pool[0]!.app_id;
  const app = await findApp(deps.db, tenantId, appId);
  if (!app) throw notFound("App");

  const people = input.participants.map((p, position) => {
    const e164 = normalizeNumber(p.number, app.default_country);
    if (!e164) {
      throw validationFailed([{ path: `/body/participants/${position}/number`, message: "is not a valid phone number" }]);
    }
    return { position, label: p.label, e164, bidx: deps.keys.blindIndex(e164) };
  });
  if (people[0]!.bidx === people[1]!.bidx) {
    throw validationFailed([{ path: "/body/participants/1/number", message: "must differ from participants[0]" }]);
  }

  const poolIds = pool.map((n) => n.id);
  const excluded = new Map<string, Set<string>>(people.map((p) => [p.bidx, new Set<string>()]));
  const ttl = input.ttlSeconds ?? DEFAULT_TTL_SECONDS;

  for (let attempt = 1; ; attempt++) {
    const picked = new Map<string, string>();
    try {
      const sessionId = await deps.db.transaction(async (trx) => {
        const now = deps.clock.now();
        const bidxs = people.map((p) => p.bidx);
        // A lagging sweeper costs nothing: this person's ended sessions free their DIDs right here.
        await store.releaseEndedParticipantsOf(trx, tenantId, bidxs, now);
        const held = await store.heldDids(trx, tenantId, bidxs);
        const last = new Map((await store.lastDids(trx, tenantId, bidxs)).map((r) => [r.number_bidx, r.proxy_number_id]));
        for (const person of people) {
          const did = chooseDid({
            poolDidIds: poolIds,
            heldDidIds: new Set(held.filter((h) => h.number_bidx === person.bidx).map((h) => h.proxy_number_id)),
            lastDidId: last.get(person.bidx) ?? null,
            excludedDidIds: excluded.get(person.bidx)!,
            avoidDidId: person.position === 1 ? picked.get(people[0]!.bidx) : null,
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
        // The pool was read before this transaction; a DID released since then must not get a participant.
        // FOR SHARE does not block concurrent sessions on the same DID, only a release (FOR UPDATE).
        const stillActive = new Set((await numbers.lockActiveNumbers(trx, tenantId, [...new Set(picked.values())])).map((n) => n.id));
        const released = [...picked].filter(([, did]) => !stillActive.has(did));
        if (released.length > 0) throw new ReleasedDidError(released);
        const session = await store.insertSession(trx, {
          id: newId("ses"),
          tenant_id: tenantId,
          app_id: appId,
          pool: poolName,
          mode: input.mode ?? "two_way",
          reference: input.reference ?? null,
          metadata: input.metadata ?? {},
          expires_at: new Date(now.getTime() + ttl * 1000),
        });
        await store.insertParticipants(
          trx,
          people.map((p) => ({
            id: newId("par"),
            tenant_id: tenantId,
            session_id: session.id,
            position: p.position,
            label: p.label ?? null,
            number_enc: deps.keys.encrypt(p.e164),
            number_bidx: p.bidx,
            masked_number: maskNumber(p.e164),
            proxy_number_id: picked.get(p.bidx)!,
          })),
        );
        return session.id;
      });
      return getSession(deps, tenantId, sessionId);
    } catch (err) {
      if (err instanceof ReleasedDidError) {
        for (const [bidx, did] of err.picks) excluded.get(bidx)!.add(did);
        poolIds.splice(0, poolIds.length, ...poolIds.filter((id) => !err.picks.some(([, did]) => did === id)));
        continue;
      }
      if (!isPairingConflict(err)) throw err;
      // A concurrent session committed one of the DIDs we picked. Postgres reports the violation only after that
      // session committed, so the next attempt's read of held DIDs already sees it; excluding our picks here would
      // also exclude the other participant's perfectly good DID and report a false pool_exhausted.
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

/** Closing is idempotent: a closed (or expired) session is returned as it is. */
export async function closeSession(deps: Pick<Deps, "db" | "clock">, tenantId: string, id: string) {
  await deps.db.transaction(async (trx) => {
    const now = deps.clock.now();
    const closed = await store.closeSession(trx, tenantId, id, now);
    if (!closed && !(await store.findSession(trx, tenantId, id))) throw notFound("Session");
    // Closed now, or expired but not yet swept: either way nobody routes through it any more.
    await store.releaseSessionParticipants(trx, tenantId, [id], now);
  });
  return getSession(deps, tenantId, id);
}

/** Extends (ttlSeconds counts from now) and/or replaces metadata. An ended session cannot be revived. */
export async function updateSession(
  deps: Pick<Deps, "db" | "clock">,
  tenantId: string,
  id: string,
  input: Schemas["UpdateSessionRequest"],
) {
  await deps.db.transaction(async (trx) => {
    const now = deps.clock.now();
    const row = await store.findSession(trx, tenantId, id, { forUpdate: true });
    if (!row) throw notFound("Session");
    const patch: Parameters<typeof store.updateSession>[3] = {};
    if (input.ttlSeconds !== undefined) {
      const status = effectiveStatus(row, now);
      if (status !== "open") throw new AppError("conflict", `The session is ${status}; open a new one instead.`);
      patch.expires_at = new Date(now.getTime() + input.ttlSeconds * 1000);
    }
    if (input.metadata !== undefined) patch.metadata = input.metadata;
    await store.updateSession(trx, tenantId, id, patch);
  });
  return getSession(deps, tenantId, id);
}
