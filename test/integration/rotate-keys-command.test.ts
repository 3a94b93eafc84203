/**
 * `pnpm rotate-keys` on an embedded instance (docs/privacy.md, "Key rotation"): with the service stopped, it writes a
 * new master key into secrets.json, re-encrypts everything under the old one, and removes the old key once nothing is
 * left under it. The service then starts on the new key alone and still routes calls and reads its data. It refuses
 * to run against Postgres, where the keys are the operator's to set.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/harness.js";
import { AUTH_TOKEN, createSession, people, tenantWithPool, type Schemas, type TenantFixture } from "../support/fixtures.js";
import { VobizSimulator } from "../sim/vobiz-simulator.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), "maskline-rotate-keys-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** Embedded, on this test's data folder, with the key secrets.json holds (no MASKLINE_MASTER_KEY). */
const embedded = () => startTestServer({ dataDir, env: { DATABASE_URL: "", REDIS_URL: "", MASKLINE_MASTER_KEY: "" } });

function rotateKeys(env: Record<string, string>) {
  return promisify(execFile)(process.execPath, ["--import", "tsx", "server/src/rotate-keys.ts"], {
    cwd: ROOT,
    timeout: 60_000,
    env: { ...process.env, DATABASE_URL: "", REDIS_URL: "", MASKLINE_MASTER_KEY: "", MASKLINE_DATA_DIR: dataDir, ...env },
  }).then(
    ({ stdout }) => ({ code: 0, stdout, stderr: "" }),
    (err: { code?: number; stdout?: string; stderr?: string }) => ({ code: err.code ?? -1, stdout: err.stdout ?? "", stderr: err.stderr ?? "" }),
  );
}

const secrets = () => JSON.parse(readFileSync(join(dataDir, "secrets.json"), "utf8")) as { masterKey: string; masterKeysPrevious?: string[] };
const sim = (server: TestServer, t: TenantFixture) =>
  new VobizSimulator({ authToken: AUTH_TOKEN, answerUrl: t.app.answerUrl.replace(/^http:\/\/127\.0\.0\.1:\d+/, server.baseUrl) });

describe("pnpm rotate-keys", () => {
  it("moves an embedded instance to a new master key, after which it still routes and reads everything", async () => {
    let server = await embedded();
    const t = await tenantWithPool(server, { dids: 2 });
    const [alice, bob] = people(2);
    const created = await createSession(server, t.apiKey, { participants: [{ number: alice }, { number: bob }] });
    expect(created.status).toBe(201);
    const session = (await created.json()) as Schemas["Session"];
    const oldKey = secrets().masterKey;
    const oldKeyId = server.deps.keys.keyId;
    await server.stop();

    const run = await rotateKeys({});
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/Re-encrypted [1-9]\d* values/);
    expect(run.stdout).toMatch(/Nothing is left under the old key/);
    expect(secrets().masterKey).not.toBe(oldKey);
    expect(secrets().masterKeysPrevious ?? []).toEqual([]);

    server = await embedded();
    try {
      expect(server.deps.keys.keyId).not.toBe(oldKeyId);
      expect(server.deps.keys.previousKeyIds).toEqual([]);
      // The carrier's signature is checked with the app's re-encrypted token, and Alice reaches Bob by his number.
      const call = await sim(server, t).placeCall({ from: alice!, to: session.participants[0]!.proxyNumber });
      expect(call.dial?.numbers).toEqual([bob]);
      const read = await server.request(`/v1/sessions/${session.id}`, { apiKey: t.apiKey });
      expect(read.status).toBe(200);
      const rotation = await server.request("/v1/admin/key-rotation", { headers: { authorization: `Bearer ${server.adminToken}` } });
      expect(await rotation.json()).toMatchObject({ previousKeyIds: [], complete: true });
    } finally {
      await server.stop();
    }
  });

  it("refuses to run against Postgres, and with MASKLINE_MASTER_KEY set, saying what to do instead", async () => {
    const onPostgres = await rotateKeys({ DATABASE_URL: "postgres://postgres@127.0.0.1:5432/unused" });
    expect(onPostgres.code).not.toBe(0);
    expect(onPostgres.stderr).toMatch(/MASKLINE_MASTER_KEY_PREVIOUS/);
    const withKey = await rotateKeys({ MASKLINE_MASTER_KEY: Buffer.alloc(32, 7).toString("base64") });
    expect(withKey.code).not.toBe(0);
    expect(withKey.stderr).toMatch(/MASKLINE_MASTER_KEY is set/);
  });
});
