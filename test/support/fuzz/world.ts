/**
 * The real resources the fuzzer points at: a tenant whose operations are fuzzed, a second tenant whose ids must stay
 * invisible to the first, and a third whose app receives the carrier webhooks (kept apart so that fuzzing
 * `PATCH /v1/apps/{id}` cannot change the token the webhook cases sign with). All made through the public API.
 */
import type { TestServer } from "../harness.js";
import { AUTH_TOKEN, createSession, tenantWithPool, uniqueDids, type TenantFixture } from "../fixtures.js";
import { VobizSimulator } from "../../sim/vobiz-simulator.js";
import type { Rng } from "./prng.js";

export interface SessionFixture {
  id: string;
  /** Real numbers of participants[0] and [1]. */
  people: [string, string];
  /** The DID each participant dials. */
  proxies: [string, string];
}

export interface TenantWorld {
  fixture: TenantFixture;
  session: SessionFixture;
  /** An API key id (not the one requests authenticate with). */
  keyId: string;
  numberId: string;
  callId: string;
  callUuid: string;
  /** A webhook endpoint (pointing at a closed local port: the fuzz server runs no job runner, nothing is sent). */
  endpointId: string;
  /** One of the tenant's events (its session's session.created). */
  eventId: string;
}

export interface FuzzWorld {
  server: TestServer;
  target: { host: string; port: number };
  adminToken: string;
  /** Every real person's number the fuzzer sends; none may ever come back in a response. */
  people: string[];
  /** The fuzzed tenant. */
  api: TenantWorld & {
    /** Targets of the destructive operations, so revoking or closing them never blinds the other cases. */
    disposableKeyId: string;
    disposableSessionId: string;
    disposableNumberId: string;
    disposableEndpointId: string;
    revokedKey: string;
  };
  /** Another tenant: its ids must answer 404 to the fuzzed tenant. */
  other: TenantWorld;
  /** The tenant whose app the webhook cases call. */
  hook: TenantWorld;
  /** A DID nobody holds yet (DIDs are claimed globally, and the real Postgres is shared by every run). */
  freshDid(): string;
  /** Another seeded person, added to `people` so the privacy oracle looks for it too. */
  newPerson(): string;
}

async function json<T>(res: Response, what: string, status: number): Promise<T> {
  const body = await res.text();
  if (res.status !== status)
    throw new Error(`fuzz fixture: ${what}: expected ${status}, got ${res.status}: ${body.slice(0, 300)}`);
  return JSON.parse(body) as T;
}

/** Seeded real-looking Indian mobile numbers (the 98 prefix, apart from the 90 DIDs). */
export function seededPeople(rng: Rng, count: number): string[] {
  const out = new Set<string>();
  while (out.size < count) out.add(`+9198${String(rng.int(0, 99_999_999)).padStart(8, "0")}`);
  return [...out];
}

async function openSession(
  server: TestServer,
  fixture: TenantFixture,
  people: [string, string],
): Promise<SessionFixture> {
  const res = await createSession(server, fixture.apiKey, {
    participants: [
      { number: people[0], label: "agent" },
      { number: people[1], label: "customer" },
    ],
    pool: fixture.pool,
    ttlSeconds: 86_400,
  });
  const body = await json<{ id: string; participants: Array<{ proxyNumber: string }> }>(res, "opening a session", 201);
  return { id: body.id, people, proxies: [body.participants[0]!.proxyNumber, body.participants[1]!.proxyNumber] };
}

async function newKeyId(server: TestServer, apiKey: string): Promise<{ id: string; secret: string }> {
  return json(
    await server.request("/v1/api-keys", { method: "POST", apiKey, json: { name: "fuzz" } }),
    "creating a key",
    201,
  );
}

/** One bridged call through the signed answer webhook, so calls.get has a real record to read. */
async function placeCall(server: TestServer, fixture: TenantFixture, session: SessionFixture) {
  const sim = new VobizSimulator({ authToken: AUTH_TOKEN, answerUrl: fixture.app.answerUrl });
  const call = await sim.placeCall({ from: session.people[0], to: session.proxies[0] });
  if (call.kind !== "dial")
    throw new Error(`fuzz fixture: the setup call was not bridged: ${call.status} ${call.xml.slice(0, 200)}`);
  const page = await json<{ data: Array<{ id: string; callUuid: string }> }>(
    await server.request(`/v1/calls?sessionId=${session.id}`, { apiKey: fixture.apiKey }),
    "listing calls",
    200,
  );
  const row = page.data.find((c) => c.callUuid === call.callUuid);
  if (!row) throw new Error("fuzz fixture: the setup call has no record");
  return { callId: row.id, callUuid: call.callUuid };
}

async function tenantWorld(
  server: TestServer,
  people: [string, string],
  pool: string,
  dids: number,
): Promise<TenantWorld> {
  const fixture = await tenantWithPool(server, { dids, pool });
  const session = await openSession(server, fixture, people);
  const key = await newKeyId(server, fixture.apiKey);
  const numbers = await json<{ data: Array<{ id: string; number: string }> }>(
    await server.request(`/v1/numbers?pool=${pool}&limit=100`, { apiKey: fixture.apiKey }),
    "listing numbers",
    200,
  );
  const call = await placeCall(server, fixture, session);
  const endpoint = await newEndpoint(server, fixture.apiKey);
  const events = await json<{ data: Array<{ id: string }> }>(
    await server.request("/v1/events?type=session.created", { apiKey: fixture.apiKey }),
    "listing events",
    200,
  );
  return { fixture, session, keyId: key.id, numberId: numbers.data[0]!.id, ...call, endpointId: endpoint.id, eventId: events.data[0]!.id };
}

async function newEndpoint(server: TestServer, apiKey: string): Promise<{ id: string }> {
  return json(
    await server.request("/v1/webhook-endpoints", { method: "POST", apiKey, json: { url: "http://127.0.0.1:9/fuzz" } }),
    "registering a webhook endpoint",
    201,
  );
}

export async function buildWorld(server: TestServer, rng: Rng): Promise<FuzzWorld> {
  const url = new URL(server.baseUrl);
  const people = seededPeople(rng.fork("people"), 12);
  const extraPeople = rng.fork("more people");
  // Pool names carry a per-run suffix so the other tenant's pool is a name the fuzzed tenant has never used.
  const run = String(rng.int(100_000, 999_999));
  const apiWorld = await tenantWorld(server, [people[0]!, people[1]!], `fuzz-${run}`, 12);
  const other = await tenantWorld(server, [people[2]!, people[3]!], `other-${run}`, 2);
  const hook = await tenantWorld(server, [people[4]!, people[5]!], `hook-${run}`, 2);

  const apiKey = apiWorld.fixture.apiKey;
  const disposableKey = await newKeyId(server, apiKey);
  const revoked = await newKeyId(server, apiKey);
  const revoke = await server.request(`/v1/api-keys/${revoked.id}`, { method: "DELETE", apiKey });
  if (revoke.status !== 204) throw new Error(`fuzz fixture: revoking a key: ${revoke.status}`);
  const check = await server.request("/v1/api-keys", { apiKey: revoked.secret });
  if (check.status !== 401) throw new Error(`fuzz fixture: a revoked key still works (${check.status})`);
  const disposableSession = await openSession(server, apiWorld.fixture, [people[6]!, people[7]!]);
  const disposableEndpoint = await newEndpoint(server, apiKey);
  // A DID of its own for numbers.delete, imported into the pool but never allocated before the fuzz starts.
  const [spare] = uniqueDids(1) as [string];
  const imported = await json<{ data: Array<{ id: string }> }>(
    await server.request("/v1/numbers", {
      method: "POST",
      apiKey,
      json: { appId: apiWorld.fixture.app.id, numbers: [spare], pool: `spare-${run}` },
    }),
    "importing the spare DID",
    201,
  );

  return {
    server,
    target: { host: url.hostname, port: Number(url.port) },
    adminToken: server.adminToken,
    people,
    api: {
      ...apiWorld,
      disposableKeyId: disposableKey.id,
      disposableSessionId: disposableSession.id,
      disposableNumberId: imported.data[0]!.id,
      disposableEndpointId: disposableEndpoint.id,
      revokedKey: revoked.secret,
    },
    other,
    hook,
    freshDid: () => uniqueDids(1)[0]!,
    newPerson: () => {
      const known = new Set(people);
      let n: string;
      do n = seededPeople(extraPeople, 1)[0]!;
      while (known.has(n));
      people.push(n);
      return n;
    },
  };
}
