/**
 * Rotating the master key end to end (docs/privacy.md, "Key rotation"): data written under key A keeps routing,
 * decrypting and matching after a restart with B as the key and A as the previous one, while new data is written
 * under B and the `keys.rekey` job re-encrypts the rest; once the status says complete, a restart with B alone finds
 * everything readable and routable. Runs on a database of its own: a rotation re-encrypts every tenant's rows.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/harness.js";
import { createOwnDatabase, type OwnDatabase } from "../support/own-database.js";
import { AUTH_TOKEN, createSession, people, tenantWithPool, type Schemas, type TenantFixture } from "../support/fixtures.js";
import { VobizSimulator } from "../sim/vobiz-simulator.js";
import { createJobRunner } from "../../server/src/jobs/runner.js";
import { createJobRegistry } from "../../server/src/jobs/kinds.js";
import { rekeyJob } from "../../server/src/jobs/rekey.js";

type Session = Schemas["Session"];
type Status = Schemas["KeyRotationStatus"];

const keyA = randomBytes(32).toString("base64");
const keyB = randomBytes(32).toString("base64");
let database: OwnDatabase | undefined;
let databaseUrl: string | undefined;
const dataDir = mkdtempSync(join(tmpdir(), "maskline-rotation-"));

beforeAll(async () => {
  database = await createOwnDatabase("maskline_rotation");
  databaseUrl = database.url;
});
afterAll(async () => {
  await database?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** A server on the rotation's own database (embedded: its own data folder), under the given keys. */
function serverWith(masterKey: string, previous?: string): Promise<TestServer> {
  return startTestServer({
    dataDir,
    env: {
      MASKLINE_MASTER_KEY: masterKey,
      MASKLINE_WEBHOOK_ALLOW_PRIVATE: "true",
      ...(previous ? { MASKLINE_MASTER_KEY_PREVIOUS: previous } : {}),
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    },
  });
}

async function json<T>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return JSON.parse(text) as T;
}

const sim = (server: TestServer, t: TenantFixture) =>
  new VobizSimulator({ authToken: AUTH_TOKEN, answerUrl: t.app.answerUrl.replace(/^http:\/\/127\.0\.0\.1:\d+/, server.baseUrl) });

async function status(server: TestServer): Promise<Status> {
  return json<Status>(await server.request("/v1/admin/key-rotation", { headers: { authorization: `Bearer ${server.adminToken}` } }), 200);
}

/** Every ciphertext in the database, by the key id it names. */
async function ciphertextKeyIds(server: TestServer): Promise<Set<string>> {
  const tables = (await server.deps.db.raw("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).rows as Array<{ tablename: string }>;
  const ids = new Set<string>();
  for (const { tablename } of tables) {
    const rows = (await server.deps.db.raw(`SELECT row_to_json(t)::text AS row FROM "${tablename}" t`)).rows as Array<{ row: string }>;
    for (const { row } of rows) for (const m of row.matchAll(/"v1\.([0-9a-f]{8})\./g)) ids.add(m[1]!);
  }
  return ids;
}

describe("rotating the master key", () => {
  it("keeps routing, creating and decrypting from key A to B and A, through the re-encryption, to B alone", async () => {
    // Under A: a two-way session with a call, a PIN session, a webhook endpoint, an idempotent create.
    const underA = await serverWith(keyA);
    const t = await tenantWithPool(underA, { dids: 3 });
    const [alice, bob, carol, dave, erin] = people(5);
    const s1 = await json<Session>(await createSession(underA, t.apiKey, { participants: [{ number: alice }, { number: bob }] }), 201);
    const pin = await json<Session>(await createSession(underA, t.apiKey, { routing: "pin", participants: [{ number: carol }, { number: dave }] }), 201);
    const idem = { "Idempotency-Key": `rotation-${randomBytes(8).toString("hex")}` };
    const body = { participants: [{ number: dave }, { number: erin }] };
    const s2 = await json<Session>(await createSession(underA, t.apiKey, body, idem), 201);
    const firstCall = await sim(underA, t).placeCall({ from: alice!, to: s1.participants[0]!.proxyNumber });
    expect(firstCall.dial?.numbers).toEqual([bob]);
    await json(await underA.request("/v1/webhook-endpoints", { method: "POST", apiKey: t.apiKey, json: { url: "http://127.0.0.1:9/hooks" } }), 201);
    const keyIdA = underA.deps.keys.keyId;
    await underA.stop();

    // B, with A still readable: everything written under A routes and matches; new writes are under B.
    const rotating = await serverWith(keyB, keyA);
    const keyIdB = rotating.deps.keys.keyId;
    expect(rotating.deps.keys.previousKeyIds).toEqual([keyIdA]);
    const before = await status(rotating);
    expect(before).toMatchObject({ currentKeyId: keyIdB, previousKeyIds: [keyIdA], complete: false });
    expect(before.remaining.participants).toBeGreaterThan(0);
    expect((await sim(rotating, t).placeCall({ from: alice!, to: s1.participants[0]!.proxyNumber })).dial?.numbers).toEqual([bob]);
    // A repeated CallUUID gets the reply stored under A.
    const replayed = await sim(rotating, t).placeCall({ from: alice!, to: s1.participants[0]!.proxyNumber, callUuid: firstCall.callUuid });
    expect(replayed.xml).toBe(firstCall.xml);
    // The idempotent create replays, its request hashed under A.
    const again = await createSession(rotating, t.apiKey, body, idem);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(((await again.json()) as Session).id).toBe(s2.id);
    // A new session for Alice: her rows move to B's index first, so she keeps one pairing per DID.
    const s3 = await json<Session>(await createSession(rotating, t.apiKey, { participants: [{ number: alice }, { number: erin }] }), 201);
    expect(s3.participants[0]!.proxyNumber).not.toBe(s1.participants[0]!.proxyNumber);
    expect((await sim(rotating, t).placeCall({ from: alice!, to: s3.participants[0]!.proxyNumber })).dial?.numbers).toEqual([erin]);
    // A PIN hashed under A connects, and is hashed again under B as it is keyed.
    for (const [who, p] of [[carol!, pin.participants[0]!], [dave!, pin.participants[1]!]] as const) {
      const prompt = await sim(rotating, t).placeCall({ from: who, to: p.proxyNumber });
      expect((await sim(rotating, t).enterDigits(prompt, p.pin!)).kind).toBe("dial");
    }

    // The re-encryption, run to the end of a pass.
    const runner = createJobRunner(rotating.deps, createJobRegistry([rekeyJob]));
    await runner.scheduleRecurring();
    await runner.runDue();
    await runner.stop();
    const after = await status(rotating);
    expect(after.remaining).toEqual(Object.fromEntries(Object.keys(after.remaining).map((k) => [k, 0])));
    expect(after.complete).toBe(true);
    expect([...(await ciphertextKeyIds(rotating))]).toEqual([keyIdB]);
    await rotating.stop();

    // B alone: what A wrote still routes, decrypts and matches.
    const underB = await serverWith(keyB);
    expect(await status(underB)).toMatchObject({ previousKeyIds: [], complete: true });
    expect((await sim(underB, t).placeCall({ from: alice!, to: s1.participants[0]!.proxyNumber })).dial?.numbers).toEqual([bob]);
    expect((await sim(underB, t).placeCall({ from: dave!, to: s2.participants[0]!.proxyNumber })).dial?.numbers).toEqual([erin]);
    expect((await sim(underB, t).placeCall({ from: alice!, to: s1.participants[0]!.proxyNumber, callUuid: firstCall.callUuid })).xml).toBe(firstCall.xml);
    const prompt = await sim(underB, t).placeCall({ from: carol!, to: pin.participants[0]!.proxyNumber });
    expect((await sim(underB, t).enterDigits(prompt, pin.participants[0]!.pin!)).dial?.numbers).toEqual([dave]);
    const endpoints = await json<{ data: Array<{ id: string }> }>(await underB.request("/v1/webhook-endpoints", { apiKey: t.apiKey }), 200);
    const rotated = await underB.request(`/v1/webhook-endpoints/${endpoints.data[0]!.id}/rotate-secret`, { method: "POST", apiKey: t.apiKey });
    expect(rotated.status).toBe(200);
    await underB.stop();
  });
});
