/**
 * The allocation steps of opening a session (docs/architecture.md, "The allocation invariant"): each person's DID
 * picked from the pool, the picks confirmed still active, session and pair written in one transaction, and the
 * whole retried when a concurrent session won a DID. The partial unique index on (tenant, DID, person) WHERE active
 * is what makes concurrent allocations safe; this code only picks well and retries. services/sessions.ts validates
 * the request and shapes the answer.
 */
import type { Knex } from "knex";
import type { SessionMode } from "@maskline/openapi/constants";
import type { Deps } from "../deps.js";
import { AppError } from "../errors.js";
import { newId } from "../crypto/ids.js";
import { maskNumber } from "../phone/numbers.js";
import { chooseDid } from "../domain/allocation.js";
import * as store from "../stores/sessions.js";
import type { ParticipantView, SessionRow } from "../stores/sessions.js";
import type { AppRow } from "../stores/apps.js";

/** Each lost race means a concurrent session committed a DID for this person, so this bounds the retries. */
const MAX_ALLOCATION_ATTEMPTS = 8;
const UNIQUE_VIOLATION = "23505";
const PAIRING_INDEX = "participants_active_pairing";

/** A picked DID was released between reading the pool and allocating: pick again without it. */
export class ReleasedDidError extends Error {
  constructor(readonly dids: string[]) {
    super("picked DID was released");
  }
}

export type ParticipantInsert = Parameters<typeof store.insertSessionWithPair>[2][0];
export type AllocationDeps = Pick<Deps, "db" | "keys" | "clock">;

/** What the caller does with the written session inside the allocation's transaction; its result is returned. */
export type Finish<T> = (trx: Knex.Transaction, session: SessionRow, participants: ParticipantView[], now: Date) => Promise<T>;

/** A participant as the allocator needs them: the number in E.164 and its blind index (the person's key). */
export interface Person {
  position: number;
  label: string | undefined;
  e164: string;
  bidx: string;
}

/** The request with its defaults applied and both numbers validated. */
export interface SessionRequest {
  poolName: string;
  ttlSeconds: number;
  mode: SessionMode;
  routing: "number" | "pin";
  recording: boolean;
  reference: string | null;
  metadata: Record<string, string>;
  people: [Person, Person];
}

export const describeParticipant = (position: number, label: string | undefined) =>
  `participants[${position}]${label ? ` (${label})` : ""}`;

function isPairingConflict(err: unknown): boolean {
  const e = err as { code?: string; constraint?: string; message?: string };
  return e.code === UNIQUE_VIOLATION && (e.constraint === PAIRING_INDEX || Boolean(e.message?.includes(PAIRING_INDEX)));
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
        { extensions: { participant: { position: person.position, label: person.label ?? null } } },
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
export async function confirmDidsStillActive(trx: Knex, tenantId: string, dids: [string, string]): Promise<void> {
  const stillActive = await store.lockPickedDids(trx, tenantId, dids[0], dids[1]);
  const gone = dids.filter((d) => !stillActive.has(d));
  if (gone.length > 0) throw new ReleasedDidError(gone);
}

/** The session and its two participant rows; `pinHashes` for a PIN session (both on one DID). */
export function newSessionRows(
  deps: AllocationDeps,
  tenantId: string,
  app: AppRow,
  request: SessionRequest,
  dids: [string, string],
  now: Date,
  pinHashes: [string, string] | null = null,
): { session: SessionRow; pair: [ParticipantInsert, ParticipantInsert] } {
  const session: SessionRow = {
    id: newId("ses"),
    tenant_id: tenantId,
    app_id: app.id,
    pool: request.poolName,
    mode: request.mode,
    routing: request.routing,
    recording: request.recording,
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
    pin_hash: pinHashes?.[i] ?? null,
    pin_key_id: pinHashes ? deps.keys.keyId : null,
  })) as [ParticipantInsert, ParticipantInsert];
  return { session, pair };
}

/** During a key rotation only: the two people's rows still under a previous key are moved to the current one first. */
export async function rekeyPair(deps: AllocationDeps, trx: Knex, tenantId: string, people: readonly Person[]): Promise<void> {
  if (deps.keys.previousKeyIds.length === 0) return;
  for (const p of people) {
    await store.rekeyPerson(trx, tenantId, deps.keys.blindIndexes(p.e164).slice(1), p.bidx, deps.keys.encrypt(p.e164));
  }
}

/**
 * One allocation, in its transaction: three prepared statements (release the pair's ended rows and read their
 * held/last DIDs, share-lock the picks, insert session and pair), then `finish` with what was written.
 */
async function allocateOnce<T>(
  deps: AllocationDeps,
  tenantId: string,
  app: AppRow,
  request: SessionRequest,
  pool: { didIds: string[]; e164ById: Map<string, string> },
  finish: Finish<T>,
): Promise<T> {
  return deps.db.transaction(async (trx) => {
    const now = deps.clock.now();
    const [first, second] = request.people;
    await rekeyPair(deps, trx, tenantId, request.people);
    // A lagging sweeper costs nothing: this pair's ended sessions free their DIDs right here.
    const rows = await store.releaseEndedAndReadPairDids(trx, tenantId, first.bidx, second.bidx, now);
    const dids = pickDids(rows, request, pool.didIds);
    await confirmDidsStillActive(trx, tenantId, dids);
    const { session, pair } = newSessionRows(deps, tenantId, app, request, dids, now);
    await store.insertSessionWithPair(trx, session, pair);
    const views = pair.map((p) => ({ ...p, proxy_e164: pool.e164ById.get(p.proxy_number_id)! }));
    return finish(trx, session, views, now);
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
 * Allocates both participants' DIDs and writes the session, retrying as withAllocationRetries says; `finish` runs in
 * the committing transaction.
 */
export async function allocateSession<T>(
  deps: AllocationDeps,
  tenantId: string,
  app: AppRow,
  request: SessionRequest,
  pool: { dids: Array<{ id: string; e164: string }> },
  finish: Finish<T>,
): Promise<T> {
  const e164ById = new Map(pool.dids.map((d) => [d.id, d.e164]));
  return withAllocationRetries(
    pool.dids.map((d) => d.id),
    (didIds) => allocateOnce(deps, tenantId, app, request, { didIds, e164ById }, finish),
  );
}
