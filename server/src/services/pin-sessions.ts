/**
 * Opening a single-number PIN session (docs/call-flows.md, "PIN sessions"): both participants get the same DID of
 * the pool, the least loaded one, and each a fresh random PIN that reaches the other. A PIN is stored only as a
 * keyed hash scoped to its DID, and is unique among that DID's live PIN rows: the unique index
 * participants_active_pin decides a race between two creates that drew the same PIN, and the loser draws again.
 * The PINs are returned to the caller once (they are not in the session's event, nor in any later read).
 */
import { randomInt } from "node:crypto";
import type { Knex } from "knex";
import type { Deps } from "../deps.js";
import { AppError } from "../errors.js";
import { newPin, pinSessionsPerDid } from "../domain/pin.js";
import * as sessions from "../stores/sessions.js";
import type { ParticipantView, SessionRow } from "../stores/sessions.js";
import { pinLoadOfDids } from "../stores/pin-routes.js";
import type { AppRow } from "../stores/apps.js";
import {
  confirmDidsStillActive,
  describeParticipant,
  newSessionRows,
  rekeyPair,
  ReleasedDidError,
  type AllocationDeps,
  type SessionRequest,
} from "./allocation.js";

/** What the caller does with the written session in the committing transaction, knowing the PINs drawn for it. */
export type PinFinish<T> = (trx: Knex.Transaction, session: SessionRow, participants: ParticipantView[], now: Date, pins: [string, string]) => Promise<T>;

/** Draws of fresh PINs before giving up: a DID this full is, in practice, exhausted (1 in 10 draws still free). */
const MAX_PIN_DRAWS = 12;
const UNIQUE_VIOLATION = "23505";
const PIN_INDEX = "participants_active_pin";

/** The keyed hash a PIN is stored and looked up by; scoped to its DID, so the same digits on two DIDs differ. */
export function pinHash(keys: Deps["keys"], numberId: string, pin: string): string {
  return keys.blindIndex(`pin:${numberId}:${pin}`);
}

/** The PIN's hash under every live key, current first: a PIN stored before a key rotation still matches. */
export function pinHashes(keys: Deps["keys"], numberId: string, pin: string): string[] {
  return keys.blindIndexes(`pin:${numberId}:${pin}`);
}

function isPinConflict(err: unknown): boolean {
  const e = err as { code?: string; constraint?: string; message?: string };
  return e.code === UNIQUE_VIOLATION && (e.constraint === PIN_INDEX || Boolean(e.message?.includes(PIN_INDEX)));
}

/** Two different PINs of `length` digits. */
function pinPair(length: number): [string, string] {
  const draw = () => newPin(length, () => randomInt(10));
  const first = draw();
  let second = draw();
  while (second === first) second = draw();
  return [first, second];
}

/**
 * Opens the session on the least loaded DID of the pool (loads read in the transaction; the unique index, not this
 * read, is what keeps PINs unique). `finish` runs in the committing transaction, with the PINs.
 */
export async function allocatePinSession<T>(
  deps: AllocationDeps,
  tenantId: string,
  app: AppRow,
  request: SessionRequest,
  pool: { dids: Array<{ id: string; e164: string }> },
  pinLength: number,
  finish: PinFinish<T>,
): Promise<T> {
  const capacity = 2 * pinSessionsPerDid(pinLength);
  let candidates = pool.dids;
  for (let draw = 1; ; draw++) {
    const pins = pinPair(pinLength);
    try {
      return await deps.db.transaction(async (trx) => allocateOnce(deps, trx, tenantId, app, request, candidates, capacity, pins, finish));
    } catch (err) {
      if (err instanceof ReleasedDidError) {
        candidates = candidates.filter((d) => !err.dids.includes(d.id));
        continue;
      }
      if (!isPinConflict(err)) throw err;
      if (draw >= MAX_PIN_DRAWS) throw exhausted(request, pool.dids.length);
    }
  }
}

async function allocateOnce<T>(
  deps: AllocationDeps,
  trx: Knex.Transaction,
  tenantId: string,
  app: AppRow,
  request: SessionRequest,
  candidates: Array<{ id: string; e164: string }>,
  capacity: number,
  pins: [string, string],
  finish: PinFinish<T>,
): Promise<T> {
  const now = deps.clock.now();
  await rekeyPair(deps, trx, tenantId, request.people);
  const load = await pinLoadOfDids(trx, tenantId, candidates.map((d) => d.id));
  const open = candidates.filter((d) => (load.get(d.id) ?? 0) + 2 <= capacity);
  if (open.length === 0) throw exhausted(request, candidates.length);
  const did = open.reduce((best, d) => ((load.get(d.id) ?? 0) < (load.get(best.id) ?? 0) ? d : best));
  await confirmDidsStillActive(trx, tenantId, [did.id, did.id]);
  const hashes: [string, string] = [pinHash(deps.keys, did.id, pins[0]), pinHash(deps.keys, did.id, pins[1])];
  const { session, pair } = newSessionRows(deps, tenantId, app, request, [did.id, did.id], now, hashes);
  await sessions.insertSessionWithPair(trx, session, pair);
  const views: ParticipantView[] = pair.map((p) => ({ ...p, proxy_e164: did.e164 }));
  return finish(trx, session, views, now, pins);
}

function exhausted(request: SessionRequest, dids: number): AppError {
  const who = describeParticipant(request.people[0].position, request.people[0].label);
  return new AppError(
    "pool_exhausted",
    `No masking number in pool '${request.poolName}' has a free PIN for a new PIN session (for ${who}): its ${dids} ` +
      "numbers carry as many PIN sessions as their PIN space allows; add numbers or lengthen the tenant's PINs.",
  );
}
