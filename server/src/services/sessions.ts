import type { Knex } from "knex";
import type { Deps } from "../deps.js";
import { AppError, notFound, validationFailed } from "../errors.js";
import { normalizeNumber } from "../phone/numbers.js";
import { sessionStatusAt } from "../domain/session-state.js";
import * as store from "../stores/sessions.js";
import type { SessionRow, ParticipantView } from "../stores/sessions.js";
import type { AppRow } from "../stores/apps.js";
import { poolKey } from "./caches.js";
import { iso, isoOrNull, type Schemas } from "./shapes.js";
import { allocateSession, type Person, type SessionRequest } from "./allocation.js";
import type { StoreResult } from "./idempotency.js";
import { SCHEMA_DEFAULTS } from "@maskline/openapi/constants";
import { newEventRow, notePoolExhausted, recordEvents } from "./events.js";
import { allocatePinSession } from "./pin-sessions.js";
import { effectiveSettings } from "../domain/tenant-settings.js";
import { findTenant } from "../stores/tenants.js";

type CreateInput = Schemas["CreateSessionRequest"];
// Request validation has already filled these in from the spec; its input type cannot say so, hence the fallbacks.
const CREATE_DEFAULTS = SCHEMA_DEFAULTS.CreateSessionRequest;

export function toSession(row: SessionRow, participants: ParticipantView[], now: Date): Schemas["Session"] {
  return {
    id: row.id,
    status: sessionStatusAt(row, now),
    mode: row.mode,
    routing: row.routing,
    recording: row.recording,
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

/** Sessions as the API shows them (their participants read in one query). */
export async function renderSessions(db: Knex, tenantId: string, rows: SessionRow[], now: Date) {
  return render(db, tenantId, rows, now);
}

async function render(db: Knex, tenantId: string, rows: SessionRow[], now: Date) {
  const views = await store.participantViews(db, tenantId, rows.map((r) => r.id));
  return rows.map((r) => toSession(r, views, now));
}

type CreateDeps = Pick<Deps, "db" | "keys" | "clock" | "appCache" | "poolCache" | "logger">;
type PoolMembers = NonNullable<Awaited<ReturnType<CreateDeps["poolCache"]["get"]>>>;

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
  const routing = input.routing ?? CREATE_DEFAULTS.routing;
  // Consent is the app's policy unless the session says otherwise.
  const recording = input.recording ?? app.record_calls;
  const metadata = input.metadata ?? {};
  return { poolName, ttlSeconds: ttl, mode, routing, recording, reference: input.reference ?? null, metadata, people };
}

/** The people a create names, as an erasure finds its stored request (services/erasures.ts). */
const subjectsOf = (request: SessionRequest) => request.people.map((p) => p.bidx);

/** The create's answer for a PIN session: the session, with each participant's PIN (shown this once). */
function withPins(session: Schemas["Session"], pins: [string, string]): Schemas["Session"] {
  return { ...session, participants: session.participants.map((p, i) => ({ ...p, pin: pins[i]! })) };
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
  try {
    if (request.routing === "pin") return await createPinSession(deps, tenantId, app, request, pool, storeResult);
    return await allocateSession(deps, tenantId, app, request, pool, async (trx, session, participants, now) => {
      const created = toSession(session, participants, now);
      await recordEvents(trx, [newEventRow(tenantId, "session.created", created, now)]);
      await storeResult?.(trx, created, subjectsOf(request));
      return created;
    });
  } catch (err) {
    if (err instanceof AppError && err.code === "pool_exhausted") {
      await notePoolExhausted(deps, tenantId, { pool: poolName, appId: app.id }, deps.logger);
    }
    throw err;
  }
}

/**
 * A PIN session: PINs of the tenant's length; the event and every later read show the session without them, the
 * create's answer (and its stored idempotent result, encrypted) with them.
 */
async function createPinSession(
  deps: CreateDeps,
  tenantId: string,
  app: AppRow,
  request: SessionRequest,
  pool: PoolMembers,
  storeResult?: StoreResult<Schemas["Session"]>,
): Promise<Schemas["Session"]> {
  const { pinLength } = effectiveSettings((await findTenant(deps.db, tenantId))?.settings);
  return allocatePinSession(deps, tenantId, app, request, pool, pinLength, async (trx, session, participants, now, pins) => {
    const created = toSession(session, participants, now);
    await recordEvents(trx, [newEventRow(tenantId, "session.created", created, now)]);
    const answer = withPins(created, pins);
    await storeResult?.(trx, answer, subjectsOf(request));
    return answer;
  });
}

/**
 * `session.expired` for sessions the sweeper (or a lazy path) just marked expired, in that same transaction: the
 * status change happens once per session, so the event does too.
 */
export async function recordSessionsExpired(trx: Knex.Transaction, keys: Array<{ tenantId: string; id: string }>, now: Date) {
  const byTenant = new Map<string, string[]>();
  for (const k of keys) byTenant.set(k.tenantId, [...(byTenant.get(k.tenantId) ?? []), k.id]);
  for (const [tenantId, ids] of byTenant) {
    const rows = await store.findSessions(trx, tenantId, ids);
    const sessions = await render(trx, tenantId, rows, now);
    await recordEvents(trx, sessions.map((session) => newEventRow(tenantId, "session.expired", session, now)));
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
    const closed = await store.closeSession(trx, tenantId, id, now);
    // Past its expiry but not yet swept: it is marked expired here (lazily), and says so once.
    const expired = closed ? undefined : await store.expireLapsedSession(trx, tenantId, id, now);
    const row = closed ?? expired ?? (await store.findSession(trx, tenantId, id));
    if (!row) throw notFound("Session");
    // Closed now, or expired: either way nobody routes through it any more.
    await store.releaseSessionParticipants(trx, tenantId, [id], now);
    const [session] = await render(trx, tenantId, [row], now);
    if (closed) await recordEvents(trx, [newEventRow(tenantId, "session.closed", session!, now)]);
    if (expired) await recordEvents(trx, [newEventRow(tenantId, "session.expired", session!, now)]);
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
  return deps.db.transaction(async (trx) => {
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
    const updated = await store.updateSession(trx, tenantId, id, patch);
    const [session] = await render(trx, tenantId, [updated], now);
    await recordEvents(trx, [newEventRow(tenantId, "session.updated", session!, now)]);
    return session!;
  });
}
