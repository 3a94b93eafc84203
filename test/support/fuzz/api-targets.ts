/**
 * Which real resource each path parameter, query filter and hinted body field of the API points at. An operation
 * the document gains with a path parameter missing here fails the run loudly instead of being fuzzed blind.
 */
import type { Rng } from "./prng.js";
import type { ValueHints } from "./schema-values.js";
import type { FuzzWorld } from "./world.js";

export interface PathTarget {
  /** The fuzzed tenant's own resource. */
  own: (w: FuzzWorld) => string;
  /** The same kind of resource of another tenant: must be a 404, exactly like an id that never existed. */
  other?: (w: FuzzWorld) => string;
  /** A well-formed id that does not exist. */
  unknown: (w: FuzzWorld) => string;
}

const nope = (id: string) => `${id.slice(0, -4)}zzzz`;

const PATH_TARGETS: Record<string, Record<string, PathTarget>> = {
  // The operator sees every tenant, so there is no "other tenant's" id for it.
  "/v1/admin/tenants/{tenantId}/api-keys": {
    tenantId: { own: (w) => w.api.fixture.tenantId, unknown: (w) => nope(w.api.fixture.tenantId) },
  },
  // The operator's revocation: the fuzzed tenant's spare key; another tenant's key named under this tenant is a 404.
  "/v1/admin/tenants/{tenantId}/api-keys/{id}": {
    tenantId: { own: (w) => w.api.fixture.tenantId, unknown: (w) => nope(w.api.fixture.tenantId) },
    id: { own: (w) => w.api.operatorDisposableKeyId, other: (w) => w.other.keyId, unknown: (w) => nope(w.api.keyId) },
  },
  "/v1/admin/tenants/{tenantId}/usage": {
    tenantId: { own: (w) => w.api.fixture.tenantId, unknown: (w) => nope(w.api.fixture.tenantId) },
  },
  "/v1/api-keys/{id}": {
    id: { own: (w) => w.api.disposableKeyId, other: (w) => w.other.keyId, unknown: (w) => nope(w.api.keyId) },
  },
  "/v1/apps/{id}": {
    id: {
      own: (w) => w.api.fixture.app.id,
      other: (w) => w.other.fixture.app.id,
      unknown: (w) => nope(w.api.fixture.app.id),
    },
  },
  "/v1/numbers/{id}": {
    id: { own: (w) => w.api.numberId, other: (w) => w.other.numberId, unknown: (w) => nope(w.api.numberId) },
  },
  "/v1/pools/{pool}": {
    pool: {
      own: (w) => w.api.fixture.pool,
      other: (w) => w.other.fixture.pool,
      unknown: (w) => `${w.api.fixture.pool}-nope`,
    },
  },
  "/v1/sessions/{id}": {
    id: { own: (w) => w.api.session.id, other: (w) => w.other.session.id, unknown: (w) => nope(w.api.session.id) },
  },
  "/v1/sessions/{id}/close": {
    id: {
      own: (w) => w.api.disposableSessionId,
      other: (w) => w.other.session.id,
      unknown: (w) => nope(w.api.session.id),
    },
  },
  "/v1/sessions/{id}/calls": {
    id: {
      own: (w) => w.api.callSession.id,
      other: (w) => w.other.session.id,
      unknown: (w) => nope(w.api.callSession.id),
    },
  },
  "/v1/calls/{id}": {
    id: { own: (w) => w.api.callId, other: (w) => w.other.callId, unknown: (w) => nope(w.api.callId) },
  },
  "/v1/recordings/{id}": {
    id: { own: (w) => w.api.recordingId, other: (w) => w.other.recordingId, unknown: (w) => nope(w.api.recordingId) },
  },
  "/v1/recordings/{id}/media": {
    id: { own: (w) => w.api.recordingId, other: (w) => w.other.recordingId, unknown: (w) => nope(w.api.recordingId) },
  },
  "/v1/webhook-endpoints/{id}": {
    id: { own: (w) => w.api.endpointId, other: (w) => w.other.endpointId, unknown: (w) => nope(w.api.endpointId) },
  },
  "/v1/webhook-endpoints/{id}/rotate-secret": {
    id: { own: (w) => w.api.endpointId, other: (w) => w.other.endpointId, unknown: (w) => nope(w.api.endpointId) },
  },
  "/v1/webhook-endpoints/{id}/deliveries": {
    id: { own: (w) => w.api.endpointId, other: (w) => w.other.endpointId, unknown: (w) => nope(w.api.endpointId) },
  },
  "/v1/erasures/{id}": {
    id: { own: (w) => w.api.erasureId, other: (w) => w.other.erasureId, unknown: (w) => nope(w.api.erasureId) },
  },
  "/v1/exports/{id}": {
    id: { own: (w) => w.api.exportId, other: (w) => w.other.exportId, unknown: (w) => nope(w.api.exportId) },
  },
  "/v1/events/{id}": {
    id: { own: (w) => w.api.eventId, other: (w) => w.other.eventId, unknown: (w) => nope(w.api.eventId) },
  },
  "/v1/events/{id}/redeliver": {
    id: { own: (w) => w.api.eventId, other: (w) => w.other.eventId, unknown: (w) => nope(w.api.eventId) },
  },
};

// Destructive operations sharing a path with a read get their own target, so the read keeps a live resource. An
// update of the app would change the carrier credentials click-to-call and the recordings are fetched with.
const OPERATION_TARGETS: Record<string, Record<string, (w: FuzzWorld) => string>> = {
  "apps.update": { id: (w) => w.api.disposableAppId },
  "numbers.delete": { id: (w) => w.api.disposableNumberId },
  "webhookEndpoints.delete": { id: (w) => w.api.disposableEndpointId },
  "recordings.delete": { id: (w) => w.api.disposableRecordingId },
};

export function pathTarget(operationId: string, pathTemplate: string, param: string): PathTarget {
  const target = PATH_TARGETS[pathTemplate]?.[param];
  if (!target)
    throw new Error(
      `fuzz: no fixture for path parameter {${param}} of ${operationId} (${pathTemplate}); add one to api-targets.ts`,
    );
  const own = OPERATION_TARGETS[operationId]?.[param];
  return own ? { ...target, own } : target;
}

/** Valid values for query parameters that name real things. Others come from their schemas. */
export function queryHint(name: string, w: FuzzWorld): string | undefined {
  switch (name) {
    case "pool":
      return w.api.fixture.pool;
    case "appId":
      return w.api.fixture.app.id;
    case "sessionId":
      return w.api.session.id;
    case "callId":
      return w.api.callId;
    case "since":
      // usage.get refuses a `since` more than 31 days back; an hour ago suits it and calls.list alike.
      return new Date(Date.now() - 3_600_000).toISOString();
    default:
      return undefined;
  }
}

/** Body hints: what random text could not be (a DID nobody holds, a person's number, the tenant's pool). */
export function bodyHints(operationId: string, w: FuzzWorld): ValueHints {
  // People are drawn in turn, so the two participants of one session are never the same person.
  let turn = 0;
  const person = () => w.people[turn++ % 8]!;
  const byPointer: ValueHints["byPointer"] = {};
  if (operationId === "webhookEndpoints.create" || operationId === "webhookEndpoints.update") {
    // A URL the endpoint policy accepts (schema-valid URIs such as urn: ones are refused, rightly, with 422).
    byPointer["/url"] = () => "http://127.0.0.1:9/fuzz";
  }
  if (operationId === "console.signIn") {
    // The tenant's own key: anything random is a wrong credential (401), which the auth cases cover.
    byPointer["/credential"] = () => w.api.fixture.apiKey;
  }
  if (operationId === "sessions.placeCall") {
    // Its own session's participants[0] (a one-way session would refuse participants[1]; this one is two-way).
    byPointer["/participantId"] = () => w.api.callSession.participantIds[0];
  }
  if (operationId === "numbers.create") {
    byPointer["/appId"] = () => w.api.fixture.app.id;
    byPointer["/numbers"] = () => [w.freshDid()];
  }
  return {
    byComponent: {
      PoolName: () => w.api.fixture.pool,
      // IN: the people are Indian mobiles, so national-format reading stays meaningful.
      CountryCode: (rng: Rng) => rng.pick(["IN", "IN", "US"]),
      PhoneNumberInput: person,
    },
    byPointer,
  };
}
