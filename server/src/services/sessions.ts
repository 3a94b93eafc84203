import type { Knex } from "knex";
import type { Deps } from "../deps.js";
import { AppError, notFound, validationFailed } from "../errors.js";
import { newId } from "../crypto/ids.js";
import { maskNumber, normalizeNumber } from "../phone/numbers.js";
import { chooseDid } from "../domain/allocation.js";
import { sessionStatusAt } from "../domain/session-state.js";
import * as store from "../stores/sessions.js";
import type { SessionRow, ParticipantView } from "../stores/sessions.js";
import type { AppRow } from "../stores/apps.js";
import { poolKey } from "./caches.js";
import { iso, isoOrNull, type Schemas } from "./shapes.js";
import type { StoreResult } from "./idempotency.js";
import { SCHEMA_DEFAULTS } from "@maskline/openapi/constants";

type CreateInput = Schemas["CreateSessionRequest"];
// Request validation has already filled these in from the spec; its input type cannot say so, hence the fallbacks.
const CREATE_DEFAULTS = SCHEMA_DEFAULTS.CreateSessionRequest;
/** Each lost race means a concurrent session committed a DID for this person, so this bounds the retries. */
const MAX_ALLOCATION_ATTEMPTS = 8;
const UNIQUE_VIOLATION = "23505";
const PAIRING_INDEX = "participants_active_pairing";

export function toSession(row: SessionRow, participants: ParticipantView[], now: Date): Schemas["Session"] {
  return {
    id: row.id,
    status: sessionStatusAt(row, now),
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
type CreateDeps = Pick<Deps, "db" | "keys" | "clock" | "appCache" | "poolCache">;
type PoolMembers = NonNullable<Awaited<ReturnType<CreateDeps["poolCache"]["get"]>>>;

/** A participant as the allocator needs them: the number in E.164 and its blind index (the person's key). */
interface Person {
  position: number;
  label: string | undefined;
  e164: string;
  bidx: string;
}

/** The request with its defaults applied and both numbers validated. */
interface SessionRequest {
  poolName: string;
  ttlSeconds: number;
  mode: NonNullable<CreateInput["mode"]>;
  reference: string | null;
  metadata: Record<string, string>;
  people: [Person, Person];
}

const describeParticipant = (position: number, label: string | undefined) =>
  `participants[${position}]${label ? ` (${label})` : ""}`;

function isPairingConflict(err: unknown): boolean {
  const e = err as { code?: string; constraint?: string; message?: string };
  return e.code === UNIQUE_VIOLATION && (e.constraint === PAIRING_INDEX || Boolean(e.message?.includes(PAIRING_INDEX)));
}

/** The pool's DIDs and the app they belong to, both from memory (kv-invalidated caches). */
async function resolvePool(deps: CreateDeps, tenantId: string, poolName: string): Promise<{ pool: PoolMembers; app: AppRow }> {
  const pool = await deps.poolCache.get(poolKey(tenantId, poolName));
  if (!pool) throw new AppError("not_found", `Pool '${poolName}' has no active numbers.`);
  const app = (await deps.appCache.get(pool.appId))?.row;
  if (!app || app.tenant_id !== tenantId) throw notFound("App");
  return { pool, app };
}

/** Numbers in E.164 (the app's default country for national ones), two different people, defaults applied. */
function normalizeRequest(deps: CreateDeps, app: AppRow, poolName: string, input: CreateInput): SessionRequest {
  const people = input.participants.map((p, position): Person => {
    const e164 = normalizeNumber(p.number, app.default_country);
    if (!e164) {
      throw validationFailed([{ path: `/body/participants/${position}/number`, message: "is not a valid phone number" }]);
    }
    return { position, label: p.label, e164, bidx: deps.keys.blindIndex(e164) };
  }) as [Person, Person];
  const [first, second] = people;
  if (first.bidx === second.bidx) {
    throw validationFailed([{ path: "/body/participants/1/number", message: "must differ from participants[0]" }]);
  }
  const ttl = input.ttlSeconds ?? CREATE_DEFAULTS.ttlSeconds;
  const mode = input.mode ?? CREATE_DEFAULTS.mode;
  const metadata = input.metadata ?? {};
  return { poolName, ttlSeconds: ttl, mode, reference: input.reference ?? null, metadata, people };
}

/**
 * Each person's DID: one they do not hold in a live session, sticky to the one they had last. The second person
 * avoids the first one's pick when another DID is free. pool_exhausted names who has no DID left.
 */
function pickDids(
  rows: Awaited<ReturnType<typeof store.releaseEndedAndReadPairDids>>,
  request: SessionRequest,
  poolDidIds: string[],
): [string, string] {
  const picked: string[] = [];
  for (const person of request.people) {
    const mine = rows.filter((r) => r.number_bidx === person.bidx);
    const did = chooseDid({
      poolDidIds,
      heldDidIds: new Set(mine.filter((r) => r.kind === "held").map((r) => r.proxy_number_id)),
      lastDidId: mine.find((r) => r.kind === "last")?.proxy_number_id ?? null,
      avoidDidId: person.position === 1 ? picked[0] : null,
    });
    if (!did) {
      throw new AppError(
        "pool_exhausted",
        `No free masking number in pool '${request.poolName}' for ${describeParticipant(person.position, person.label)}: ` +
          `they are already in as many open sessions as the pool has numbers (${poolDidIds.length}).`,
      );
    }
    picked.push(did);
  }
  return picked as [string, string];
}

/**
 * The pool came from a cache; a DID released since must not get a participant. FOR SHARE does not block
 * concurrent sessions on the same DID, only a release (FOR UPDATE).
 */
async function confirmDidsStillActive(trx: Knex, tenantId: string, dids: [string, string]): Promise<void> {
  const stillActive = await store.lockPickedDids(trx, tenantId, dids[0], dids[1]);
  const gone = dids.filter((d) => !stillActive.has(d));
  if (gone.length > 0) throw new ReleasedDidError(gone);
}

function newSessionRows(
  deps: CreateDeps,
  tenantId: string,
  app: AppRow,
  request: SessionRequest,
  dids: [string, string],
  now: Date,
): { session: SessionRow; pair: [ParticipantInsert, ParticipantInsert] } {
  const session: SessionRow = {
    id: newId("ses"),
    tenant_id: tenantId,
    app_id: app.id,
    pool: request.poolName,
    mode: request.mode,
    status: "open",
    reference: request.reference,
    metadata: request.metadata,
    created_at: now,
    expires_at: new Date(now.getTime() + request.ttlSeconds * 1000),
    closed_at: null,
  };
  const pair = request.people.map((p, i) => ({
    id: newId("par"),
    tenant_id: tenantId,
    session_id: session.id,
    position: p.position,
    label: p.label ?? null,
    number_enc: deps.keys.encrypt(p.e164),
    number_bidx: p.bidx,
    masked_number: maskNumber(p.e164),
    proxy_number_id: dids[i]!,
  })) as [ParticipantInsert, ParticipantInsert];
  return { session, pair };
}

/**
 * One allocation, in its transaction: three prepared statements (release the pair's ended rows and read their
 * held/last DIDs, share-lock the picks, insert session and pair), the response built from what was written.
 */
async function allocateOnce(
  deps: CreateDeps,
  tenantId: string,
  app: AppRow,
  request: SessionRequest,
  pool: { didIds: string[]; e164ById: Map<string, string> },
  storeResult: StoreResult<Schemas["Session"]> | undefined,
): Promise<Schemas["Session"]> {
  return deps.db.transaction(async (trx) => {
    const now = deps.clock.now();
    const [first, second] = request.people;
    // A lagging sweeper costs nothing: this pair's ended sessions free their DIDs right here.
    const rows = await store.releaseEndedAndReadPairDids(trx, tenantId, first.bidx, second.bidx, now);
    const dids = pickDids(rows, request, pool.didIds);
    await confirmDidsStillActive(trx, tenantId, dids);
    const { session, pair } = newSessionRows(deps, tenantId, app, request, dids, now);
    await store.insertSessionWithPair(trx, session, pair);
    const views = pair.map((p) => ({ ...p, proxy_e164: pool.e164ById.get(p.proxy_number_id)! }));
    const created = toSession(session, views, now);
    await storeResult?.(trx, created);
    return created;
  });
}

/**
 * Runs `allocate` until it commits: a DID found released is dropped from the candidates, and a pairing conflict
 * (a concurrent session committed a DID we picked) is retried a bounded number of times.
 */
async function withAllocationRetries<T>(poolDidIds: string[], allocate: (candidates: string[]) => Promise<T>): Promise<T> {
  let candidates = poolDidIds;
  for (let attempt = 1; ; attempt++) {
    try {
      return await allocate(candidates);
    } catch (err) {
      if (err instanceof ReleasedDidError) {
        candidates = candidates.filter((id) => !err.dids.includes(id));
        continue;
      }
      if (!isPairingConflict(err)) throw err;
      // Postgres reports the violation only after the concurrent session committed, so the next attempt's read of
      // held DIDs already sees it (excluding our picks would also drop the other participant's perfectly good DID
      // and report a false pool_exhausted).
      if (attempt >= MAX_ALLOCATION_ATTEMPTS) {
        throw new AppError("conflict", "Too many concurrent sessions for these participants; retry.", { cause: err });
      }
    }
  }
}

/**
 * Opens a session: both participants get a DID in one transaction, or neither does. The partial unique index
 * on (tenant, DID, person) WHERE active is what makes concurrent allocations safe; this code only picks well
 * and retries when a concurrent session took the DID it picked.
 */
export async function createSession(
  deps: CreateDeps,
  tenantId: string,
  input: CreateInput,
  storeResult?: StoreResult<Schemas["Session"]>,
): Promise<Schemas["Session"]> {
  const poolName = input.pool ?? CREATE_DEFAULTS.pool;
  const { pool, app } = await resolvePool(deps, tenantId, poolName);
  const request = normalizeRequest(deps, app, poolName, input);
  const e164ById = new Map(pool.dids.map((d) => [d.id, d.e164]));
  return withAllocationRetries(
    pool.dids.map((d) => d.id),
    (didIds) => allocateOnce(deps, tenantId, app, request, { didIds, e164ById }, storeResult),
  );
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
      const status = sessionStatusAt(row, now);
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
