/**
 * The real resources the fuzzer points at: a tenant whose operations are fuzzed, a second tenant whose ids must stay
 * invisible to the first, and a third whose app receives the carrier webhooks (kept apart so that fuzzing
 * `PATCH /v1/apps/{id}` cannot change the token the webhook cases sign with). All made through the public API and
 * the carrier simulators: each tenant has a recorded session with a bridged call and its recording (kept by the
 * carrier's REST side, so the media and delete operations reach real audio), and a call Maskline placed.
 */
import type { TestServer } from "../harness.js";
import { SCHEMA_DEFAULTS } from "../../../openapi/generated/constants.js";
import { AUTH_TOKEN, createSession, tenantWithPool, uniqueDids, type TenantFixture } from "../fixtures.js";
import { VobizSimulator, type CallResult } from "../../sim/vobiz-simulator.js";
import type { VobizRestServer } from "../../sim/vobiz-rest-server.js";
import type { Rng } from "./prng.js";

export interface SessionFixture {
  id: string;
  /** Real numbers of participants[0] and [1]. */
  people: [string, string];
  /** The DID each participant dials. */
  proxies: [string, string];
  /** participants[0]'s and [1]'s ids. */
  participantIds: [string, string];
}

/** A call Maskline placed (click-to-call), with what the carrier was given to call back. */
export interface PlacedCallFixture {
  id: string;
  /** The call's own secret `t`, read from the URLs the carrier was given. */
  secret: string;
  /** The carrier's request_uuid. */
  callUuid: string;
  /** The DID it rings from and the real number it rings. */
  from: string;
  to: string;
}

/** A PIN call waiting for its digits (the answer was a `<Gather>`). */
export interface PendingPinCall {
  callUuid: string;
  /** The caller's real number. */
  from: string;
  /** The digits to key: the caller's own PIN for the owner's calls, a wrong one for everybody else's. */
  digits: string;
}

export interface TenantWorld {
  fixture: TenantFixture;
  /** A recorded session (`recording: true`), so its call has a recording. */
  session: SessionFixture;
  /** An API key id (not the one requests authenticate with). */
  keyId: string;
  numberId: string;
  /** The session's bridged (and recorded) inbound call. */
  callId: string;
  callUuid: string;
  /** The recording of that call (its audio is at the carrier simulator). */
  recordingId: string;
  /** A call Maskline placed for the session's participants[0]. */
  placedCall: PlacedCallFixture;
  /** A webhook endpoint (pointing at a closed local port: the fuzz server runs no job runner, nothing is sent). */
  endpointId: string;
  /** An erasure and an export the tenant requested (of a number nobody else in the world holds). */
  erasureId: string;
  exportId: string;
  /** One of the tenant's events (its session's session.created). */
  eventId: string;
}

export interface FuzzWorld {
  server: TestServer;
  /** The carrier's REST side: places calls, keeps the recordings' audio. */
  rest: VobizRestServer;
  target: { host: string; port: number };
  adminToken: string;
  /** GET /metrics's token (the world's server is started with one). */
  metricsToken: string;
  /**
   * A web console session of the fuzzed tenant per console operation (signing out one must not blind the others):
   * its cookie (`name=value`) and CSRF token; and one that has been signed out, which every operation must refuse.
   */
  console: { sessions: Record<string, { cookie: string; csrf: string }>; signedOutCookie: string };
  /** Every real person's number the fuzzer sends; none may ever come back in a response. */
  people: string[];
  /** The fuzzed tenant. */
  api: TenantWorld & {
    /** Targets of the destructive operations, so revoking or closing them never blinds the other cases. */
    disposableKeyId: string;
    /** A key of the fuzzed tenant for the operator's revocation (admin.apiKeys.delete). */
    operatorDisposableKeyId: string;
    disposableSessionId: string;
    disposableNumberId: string;
    disposableEndpointId: string;
    disposableRecordingId: string;
    /** A second app of the tenant, for apps.update (the first one's carrier credentials must keep working). */
    disposableAppId: string;
    revokedKey: string;
    /** A session nothing else touches (sessions.update may shorten the main one), for click-to-call. */
    callSession: SessionFixture;
  };
  /** Another tenant: its ids must answer 404 to the fuzzed tenant. */
  other: TenantWorld;
  /** The tenant whose app the webhook cases call. */
  hook: TenantWorld & {
    /** A placed call per placed-call webhook operation, so each operation answers or ends a call of its own. */
    placedCalls: Record<string, PlacedCallFixture>;
    pin: {
      sessionId: string;
      /** The one DID both participants dial. */
      did: string;
      /** participants[0]'s real number: the owner of the PIN the baselines key. */
      owner: string;
      /**
       * Per PIN webhook operation, calls waiting for their digits: from the owner (keying the right PIN) and from
       * strangers (one wrong PIN each, so nobody is ever locked out). Each attempt of a call is judged once, so the
       * cases of an operation take them in turn and no two operations share one.
       */
      calls: Record<string, { owner: PendingPinCall[]; strangers: PendingPinCall[] }>;
    };
  };
  /** A DID nobody holds yet (DIDs are claimed globally, and the real Postgres is shared by every run). */
  freshDid(): string;
  /** Another seeded person, added to `people` so the privacy oracle looks for it too. */
  newPerson(): string;
}

/** The placed-call webhook operations, each of which gets a call of its own on the hook tenant. */
export const PLACED_CALL_OPERATIONS = [
  "vobiz.outboundAnswer",
  "vobiz.outboundAnswerGet",
  "vobiz.outboundHangup",
  "vobiz.outboundHangupGet",
] as const;
/** The PIN webhook operations; each gets waiting calls of its own. */
export const PIN_OPERATIONS = ["vobiz.pin", "vobiz.pinGet"] as const;
/** Per PIN operation: waiting calls from the PIN's owner (the baselines) and from strangers (digits, attempts). */
const OWNER_PIN_CALLS = 2;
const STRANGER_PIN_CALLS = 32;

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

interface SessionBody {
  id: string;
  participants: Array<{ id: string; proxyNumber: string; pin?: string }>;
}

async function openSession(
  server: TestServer,
  fixture: TenantFixture,
  people: [string, string],
  extra: Record<string, unknown> = {},
): Promise<SessionFixture> {
  const res = await createSession(server, fixture.apiKey, {
    participants: [
      { number: people[0], label: "agent" },
      { number: people[1], label: "customer" },
    ],
    pool: fixture.pool,
    ttlSeconds: 86_400,
    ...extra,
  });
  const body = await json<SessionBody>(res, "opening a session", 201);
  const [p0, p1] = body.participants as [SessionBody["participants"][number], SessionBody["participants"][number]];
  return { id: body.id, people, proxies: [p0.proxyNumber, p1.proxyNumber], participantIds: [p0.id, p1.id] };
}

async function newKeyId(server: TestServer, apiKey: string): Promise<{ id: string; secret: string }> {
  return json(
    await server.request("/v1/api-keys", { method: "POST", apiKey, json: { name: "fuzz" } }),
    "creating a key",
    201,
  );
}

const carrierFor = (fixture: TenantFixture) =>
  new VobizSimulator({ authToken: AUTH_TOKEN, answerUrl: fixture.app.answerUrl, hangupUrl: fixture.app.hangupUrl });

/** One bridged call through the signed answer webhook, so calls.get has a real record to read. */
async function bridgedCall(server: TestServer, fixture: TenantFixture, session: SessionFixture) {
  const call = await carrierFor(fixture).placeCall({ from: session.people[0], to: session.proxies[0] });
  if (call.kind !== "dial" || !call.record)
    throw new Error(`fuzz fixture: the setup call was not bridged and recorded: ${call.xml.slice(0, 160)}`);
  const page = await json<{ data: Array<{ id: string; callUuid: string }> }>(
    await server.request(`/v1/calls?sessionId=${session.id}`, { apiKey: fixture.apiKey }),
    "listing calls",
    200,
  );
  const row = page.data.find((c) => c.callUuid === call.callUuid);
  if (!row) throw new Error("fuzz fixture: the setup call has no record");
  return { call, callId: row.id, callUuid: call.callUuid };
}

/** The carrier's recording callback for a recorded call (the audio kept by the REST simulator); its Recording id. */
async function recordingOf(
  server: TestServer,
  rest: VobizRestServer,
  fixture: TenantFixture,
  call: CallResult,
  callId: string,
): Promise<string> {
  const callback = await carrierFor(fixture).postRecording(call, rest, { durationMs: 4_000 });
  if (callback.status !== 200) throw new Error(`fuzz fixture: the recording callback got ${callback.status}`);
  const page = await json<{ data: Array<{ id: string }> }>(
    await server.request(`/v1/recordings?callId=${callId}&limit=100`, { apiKey: fixture.apiKey }),
    "listing recordings",
    200,
  );
  // Newest first: the one this callback made.
  const recording = page.data[0];
  if (!recording) throw new Error("fuzz fixture: the recording callback made no recording");
  return recording.id;
}

/** Click-to-call through the API; the call's secret is read from the URLs the carrier simulator was given. */
async function placedCall(
  server: TestServer,
  rest: VobizRestServer,
  fixture: TenantFixture,
  session: SessionFixture,
): Promise<PlacedCallFixture> {
  const call = await json<{ id: string; callUuid: string | null; status: string }>(
    await server.request(`/v1/sessions/${session.id}/calls`, {
      method: "POST",
      apiKey: fixture.apiKey,
      json: { participantId: session.participantIds[0] },
    }),
    "placing a call",
    202,
  );
  if (!call.callUuid) throw new Error(`fuzz fixture: the placed call has no CallUUID (status ${call.status})`);
  const asked = rest.requests.find((r) => {
    const body = r.body as { answer_url?: unknown } | undefined;
    const answerUrl = typeof body?.answer_url === "string" ? body.answer_url : "";
    return r.method === "POST" && answerUrl.includes(`/calls/${call.id}/`);
  });
  const body = asked?.body as { answer_url: string; hangup_url: string; from: string; to: string } | undefined;
  if (!body) throw new Error("fuzz fixture: the carrier was never asked to place the call");
  const answerUrl = new URL(body.answer_url);
  const hangupUrl = new URL(body.hangup_url);
  const secret = answerUrl.searchParams.get("t");
  if (!secret || hangupUrl.searchParams.get("t") !== secret)
    throw new Error("fuzz fixture: the placed call's URLs carry no (or different) call secrets");
  if (!answerUrl.pathname.endsWith(`/calls/${call.id}/answer`))
    throw new Error(`fuzz fixture: unexpected answer URL ${answerUrl.pathname}`);
  return { id: call.id, secret, callUuid: call.callUuid, from: body.from, to: body.to };
}

async function tenantWorld(
  server: TestServer,
  rest: VobizRestServer,
  people: [string, string],
  pool: string,
  dids: number,
): Promise<TenantWorld> {
  const fixture = await tenantWithPool(server, { dids, pool });
  const session = await openSession(server, fixture, people, { recording: true });
  const key = await newKeyId(server, fixture.apiKey);
  const numbers = await json<{ data: Array<{ id: string; number: string }> }>(
    await server.request(`/v1/numbers?pool=${pool}&limit=100`, { apiKey: fixture.apiKey }),
    "listing numbers",
    200,
  );
  const { call, callId, callUuid } = await bridgedCall(server, fixture, session);
  const recordingId = await recordingOf(server, rest, fixture, call, callId);
  const placed = await placedCall(server, rest, fixture, session);
  const endpoint = await newEndpoint(server, fixture.apiKey);
  const stranger = `+9197${String(Math.floor(Math.random() * 1e8)).padStart(8, "0")}`;
  const erasure = await json<{ id: string }>(
    await server.request("/v1/erasures", { method: "POST", apiKey: fixture.apiKey, json: { number: stranger } }),
    "requesting an erasure",
    202,
  );
  const exported = await json<{ id: string }>(
    await server.request("/v1/exports", { method: "POST", apiKey: fixture.apiKey, json: { number: stranger } }),
    "requesting an export",
    202,
  );
  const events = await json<{ data: Array<{ id: string }> }>(
    await server.request("/v1/events?type=session.created", { apiKey: fixture.apiKey }),
    "listing events",
    200,
  );
  return {
    fixture,
    session,
    keyId: key.id,
    numberId: numbers.data[0]!.id,
    callId,
    callUuid,
    recordingId,
    placedCall: placed,
    endpointId: endpoint.id,
    erasureId: erasure.id,
    exportId: exported.id,
    eventId: events.data[0]!.id,
  };
}

async function newEndpoint(server: TestServer, apiKey: string): Promise<{ id: string }> {
  return json(
    await server.request("/v1/webhook-endpoints", { method: "POST", apiKey, json: { url: "http://127.0.0.1:9/fuzz" } }),
    "registering a webhook endpoint",
    201,
  );
}

const wrongPin = (pin: string) =>
  pin
    .split("")
    .map((d) => String((Number(d) + 5) % 10))
    .join("");

/**
 * A PIN session on the hook tenant, and calls to its DID waiting for their digits: a few from the PIN's owner (the
 * baselines key the right PIN), the rest from strangers (one attempt each, so no caller is ever locked out).
 */
async function pinWorld(
  server: TestServer,
  fixture: TenantFixture,
  people: [string, string],
  stranger: () => string,
): Promise<FuzzWorld["hook"]["pin"]> {
  const res = await createSession(server, fixture.apiKey, {
    routing: "pin",
    participants: [{ number: people[0] }, { number: people[1] }],
    pool: fixture.pool,
    ttlSeconds: 86_400,
  });
  const session = await json<SessionBody>(res, "opening a PIN session", 201);
  const owner = session.participants[0]!;
  if (!owner.pin) throw new Error("fuzz fixture: the PIN session's answer shows no PIN");
  const did = owner.proxyNumber;
  const sim = carrierFor(fixture);
  const prompt = async (from: string, digits: string): Promise<PendingPinCall> => {
    const call = await sim.placeCall({ from, to: did });
    if (!call.gather) throw new Error(`fuzz fixture: a PIN DID call was not prompted: ${call.xml.slice(0, 160)}`);
    return { callUuid: call.callUuid, from, digits };
  };
  const calls: FuzzWorld["hook"]["pin"]["calls"] = {};
  for (const op of PIN_OPERATIONS) {
    const mine = { owner: [] as PendingPinCall[], strangers: [] as PendingPinCall[] };
    for (let i = 0; i < OWNER_PIN_CALLS; i++) mine.owner.push(await prompt(people[0], owner.pin));
    for (let i = 0; i < STRANGER_PIN_CALLS; i++) mine.strangers.push(await prompt(stranger(), wrongPin(owner.pin)));
    calls[op] = mine;
  }
  return { sessionId: session.id, did, owner: people[0], calls };
}

/** The operations the console's cookie alone authenticates: each gets a session of its own. */
const CONSOLE_SESSION_OPERATIONS = ["console.getSession", "console.signOut"];

/** A console session of the tenant whose key this is: the cookie as a Cookie header sends it, and its CSRF token. */
async function consoleSession(server: TestServer, apiKey: string): Promise<{ cookie: string; csrf: string }> {
  const res = await server.request("/v1/console/session", { method: "POST", json: { credential: apiKey } });
  if (res.status !== 201) throw new Error(`fuzz fixture: console sign-in: ${res.status}`);
  const { csrfToken } = (await res.json()) as { csrfToken: string };
  return { cookie: res.headers.get("set-cookie")!.split(";")[0]!, csrf: csrfToken };
}

/** The metrics token the fuzzed server is started with (MASKLINE_METRICS_TOKEN), so GET /metrics's auth is fuzzed. */
export const FUZZ_METRICS_TOKEN = "fuzz-metrics-token-0123456789";

export async function buildWorld(server: TestServer, rest: VobizRestServer, rng: Rng): Promise<FuzzWorld> {
  const url = new URL(server.baseUrl);
  const people = seededPeople(rng.fork("people"), 12);
  const extraPeople = rng.fork("more people");
  const newPerson = () => {
    const known = new Set(people);
    let n: string;
    do n = seededPeople(extraPeople, 1)[0]!;
    while (known.has(n));
    people.push(n);
    return n;
  };
  // Pool names carry a per-run suffix so the other tenant's pool is a name the fuzzed tenant has never used.
  const run = String(rng.int(100_000, 999_999));
  const apiWorld = await tenantWorld(server, rest, [people[0]!, people[1]!], `fuzz-${run}`, 12);
  const other = await tenantWorld(server, rest, [people[2]!, people[3]!], `other-${run}`, 2);
  const hook = await tenantWorld(server, rest, [people[4]!, people[5]!], `hook-${run}`, 2);

  const apiKey = apiWorld.fixture.apiKey;
  const disposableKey = await newKeyId(server, apiKey);
  const operatorDisposableKey = await newKeyId(server, apiKey);
  const revoked = await newKeyId(server, apiKey);
  const revoke = await server.request(`/v1/api-keys/${revoked.id}`, { method: "DELETE", apiKey });
  if (revoke.status !== 204) throw new Error(`fuzz fixture: revoking a key: ${revoke.status}`);
  const check = await server.request("/v1/api-keys", { apiKey: revoked.secret });
  if (check.status !== 401) throw new Error(`fuzz fixture: a revoked key still works (${check.status})`);
  const disposableSession = await openSession(server, apiWorld.fixture, [people[6]!, people[7]!]);
  const callSession = await openSession(server, apiWorld.fixture, [people[8]!, people[9]!]);
  const disposableEndpoint = await newEndpoint(server, apiKey);
  const disposableApp = await json<{ id: string }>(
    await server.request("/v1/apps", {
      method: "POST",
      apiKey,
      json: { name: "Fuzz app", vobizAuthId: "MA_TEST", vobizAuthToken: AUTH_TOKEN },
    }),
    "creating a second app",
    201,
  );
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
  // A session created without `pool` uses the default one: the fuzzed tenant has it too, so omitting it is valid.
  await json(
    await server.request("/v1/numbers", {
      method: "POST",
      apiKey,
      json: {
        appId: apiWorld.fixture.app.id,
        numbers: uniqueDids(3),
        pool: SCHEMA_DEFAULTS.CreateSessionRequest.pool,
      },
    }),
    "importing DIDs into the default pool",
    201,
  );
  // A second recording of the recorded call, for recordings.delete.
  const recorded = await carrierFor(apiWorld.fixture).placeCall({
    from: apiWorld.session.people[0],
    to: apiWorld.session.proxies[0],
  });
  if (!recorded.record) throw new Error("fuzz fixture: the second recorded call was not recorded");
  const recordedId = (
    await json<{ data: Array<{ id: string; callUuid: string }> }>(
      await server.request(`/v1/calls?sessionId=${apiWorld.session.id}&limit=100`, { apiKey }),
      "listing calls",
      200,
    )
  ).data.find((c) => c.callUuid === recorded.callUuid)?.id;
  if (!recordedId) throw new Error("fuzz fixture: the second recorded call has no record");
  const disposableRecordingId = await recordingOf(server, rest, apiWorld.fixture, recorded, recordedId);

  const placedCalls: Record<string, PlacedCallFixture> = {};
  for (const op of PLACED_CALL_OPERATIONS) placedCalls[op] = await placedCall(server, rest, hook.fixture, hook.session);
  const pin = await pinWorld(server, hook.fixture, [people[10]!, people[11]!], newPerson);
  const consoleSessions: FuzzWorld["console"]["sessions"] = {};
  for (const op of CONSOLE_SESSION_OPERATIONS) consoleSessions[op] = await consoleSession(server, apiKey);
  const signedOut = await consoleSession(server, apiKey);
  const out = await server.request("/v1/console/session", { method: "DELETE", headers: { cookie: signedOut.cookie, "x-csrf-token": signedOut.csrf } });
  if (out.status !== 204) throw new Error(`fuzz fixture: signing out a console session: ${out.status}`);

  return {
    server,
    rest,
    target: { host: url.hostname, port: Number(url.port) },
    adminToken: server.adminToken,
    metricsToken: FUZZ_METRICS_TOKEN,
    console: { sessions: consoleSessions, signedOutCookie: signedOut.cookie },
    people,
    api: {
      ...apiWorld,
      disposableKeyId: disposableKey.id,
      operatorDisposableKeyId: operatorDisposableKey.id,
      disposableSessionId: disposableSession.id,
      disposableNumberId: imported.data[0]!.id,
      disposableEndpointId: disposableEndpoint.id,
      disposableRecordingId,
      disposableAppId: disposableApp.id,
      revokedKey: revoked.secret,
      callSession,
    },
    other,
    hook: { ...hook, placedCalls, pin },
    freshDid: () => uniqueDids(1)[0]!,
    newPerson,
  };
}
