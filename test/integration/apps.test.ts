import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/harness.js";
import { expectInvisibleToOtherTenant, expectNotListed, problemOf } from "../support/isolation.js";
import type { Schemas } from "../support/fixtures.js";
import { SCHEMA_DEFAULTS, SCHEMA_PROPERTIES } from "../../openapi/generated/constants.js";

type App = Schemas["App"];

let server: TestServer;
/** Every auth token sent in this file: none may appear in any response or log line. */
const tokensSent: string[] = [];
const newToken = () => {
  const token = `vobiz-secret-${randomBytes(12).toString("hex")}`;
  tokensSent.push(token);
  return token;
};

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  const logs = server.logs.join("");
  expect(logs.length).toBeGreaterThan(0);
  for (const token of tokensSent) expect(logs).not.toContain(token);
  await server?.stop();
});

/** Sends a request and returns its text after checking that no auth token is in it. */
async function call(path: string, init: Parameters<TestServer["request"]>[1] = {}) {
  const res = await server.request(path, init);
  const text = await res.text();
  for (const token of tokensSent) expect(text).not.toContain(token);
  expect(text).not.toMatch(/vobizAuthToken|auth_token/i);
  return { res, text, json: <T>() => JSON.parse(text) as T };
}

async function createApp(apiKey: string, extra: Record<string, unknown> = {}) {
  const r = await call("/v1/apps", { method: "POST", apiKey, json: { name: "Rides", vobizAuthId: "MA_RIDES", vobizAuthToken: newToken(), ...extra } });
  expect(r.res.status, r.text).toBe(201);
  return r.json<App>();
}

async function storedRow(id: string) {
  return (await server.deps.db("apps").where({ id }).first()) as { auth_token_enc: string; url_secret: string; messages: Record<string, string> };
}

describe("creating apps", () => {
  it("registers an app with the defaults and the exact Vobiz URLs, keeping the token encrypted", async () => {
    const { apiKey } = await server.createTenant();
    const token = newToken();
    const r = await call("/v1/apps", { method: "POST", apiKey, json: { name: "Rides", vobizAuthId: "MA_RIDES", vobizAuthToken: token } });
    expect(r.res.status).toBe(201);
    const app = r.json<App>();
    expect(app.id).toMatch(/^app_/);
    expect(app).toMatchObject({ name: "Rides", vobizAuthId: "MA_RIDES", ...SCHEMA_DEFAULTS.CreateAppRequest, messages: {} });
    expect(Object.keys(app).sort()).toEqual([...SCHEMA_PROPERTIES.App].sort());
    expect(Math.abs(Date.parse(app.createdAt) - Date.now())).toBeLessThan(60_000);

    const row = await storedRow(app.id);
    expect(row.auth_token_enc).not.toContain(token);
    expect(server.deps.keys.decrypt(row.auth_token_enc)).toBe(token);
    expect(row.url_secret.length).toBeGreaterThanOrEqual(32); // 24 random bytes, base64url
    const base = `${server.deps.config.publicBaseUrl}/v1/vobiz/${app.id}`;
    const k = `?k=${encodeURIComponent(row.url_secret)}`;
    expect(app.answerUrl).toBe(`${base}/answer${k}`);
    expect(app.hangupUrl).toBe(`${base}/hangup${k}`);
    expect(app.dialStatusUrl).toBe(`${base}/dial-status${k}`);
  });

  it("gives every app its own URL secret", async () => {
    const { apiKey } = await server.createTenant();
    const a = await createApp(apiKey);
    const b = await createApp(apiKey);
    expect(new URL(a.answerUrl).searchParams.get("k")).not.toBe(new URL(b.answerUrl).searchParams.get("k"));
  });

  it("stores every optional field as given, and returns only the messages that were set", async () => {
    const { apiKey } = await server.createTenant();
    const app = await createApp(apiKey, {
      signatureRequired: false,
      defaultCountry: "US",
      ringTimeoutSeconds: 45,
      maxCallSeconds: 600,
      messages: { sessionEnded: "This call can no longer be connected." },
    });
    expect(app).toMatchObject({
      signatureRequired: false,
      defaultCountry: "US",
      ringTimeoutSeconds: 45,
      maxCallSeconds: 600,
      messages: { sessionEnded: "This call can no longer be connected." },
    });
    expect((await storedRow(app.id)).messages).toEqual({ sessionEnded: "This call can no longer be connected." });
  });

  it.each([
    [{ vobizAuthId: "MA", vobizAuthToken: "t0ken-value" }, "/body/name"],
    [{ name: "x", vobizAuthToken: "t0ken-value" }, "/body/vobizAuthId"],
    [{ name: "x", vobizAuthId: "MA" }, "/body/vobizAuthToken"],
    [{ name: "x", vobizAuthId: "MA", vobizAuthToken: "t0ken-value", defaultCountry: "india" }, "/body/defaultCountry"],
    [{ name: "x", vobizAuthId: "MA", vobizAuthToken: "t0ken-value", ringTimeoutSeconds: 2 }, "/body/ringTimeoutSeconds"],
    [{ name: "x", vobizAuthId: "MA", vobizAuthToken: "t0ken-value", maxCallSeconds: 59 }, "/body/maxCallSeconds"],
    [{ name: "x", vobizAuthId: "MA", vobizAuthToken: "t0ken-value", maxCallSeconds: 14401 }, "/body/maxCallSeconds"],
    [{ name: "x", vobizAuthId: "MA", vobizAuthToken: "t0ken-value", signatureRequired: "yes" }, "/body/signatureRequired"],
    [{ name: "x", vobizAuthId: "MA", vobizAuthToken: "t0ken-value", messages: { hello: "hi" } }, "/body/messages/hello"],
    [{ name: "x", vobizAuthId: "MA", vobizAuthToken: "t0ken-value", urlSecret: "mine" }, "/body/urlSecret"],
  ])("refuses %j with 422 at %s", async (json, path) => {
    const { apiKey } = await server.createTenant();
    const res = await server.request("/v1/apps", { method: "POST", apiKey, json });
    expect(res.status).toBe(422);
    const problem = await problemOf(res);
    expect(problem.code).toBe("validation_failed");
    expect(problem.errors?.map((e) => e.path)).toContain(path);
    expect(JSON.stringify(problem)).not.toContain("t0ken-value");
  });

  it("requires an API key", async () => {
    const res = await server.request("/v1/apps", { method: "POST", json: { name: "x", vobizAuthId: "MA", vobizAuthToken: "t" } });
    expect(res.status).toBe(401);
  });
});

describe("reading apps", () => {
  it("gets an app and lists apps newest first, page by page", async () => {
    const { apiKey } = await server.createTenant();
    const created = [await createApp(apiKey, { name: "one" }), await createApp(apiKey, { name: "two" }), await createApp(apiKey, { name: "three" })];

    const got = await call(`/v1/apps/${created[1]!.id}`, { apiKey });
    expect(got.res.status).toBe(200);
    expect(got.json<App>()).toEqual(created[1]);

    const first = await call("/v1/apps?limit=2", { apiKey });
    expect(first.res.status).toBe(200);
    const page1 = first.json<Schemas["AppList"]>();
    expect(page1.data.map((a) => a.name)).toEqual(["three", "two"]);
    expect(page1.data[0]).toEqual(created[2]);
    expect(page1.nextCursor).toEqual(expect.any(String));
    const second = await call(`/v1/apps?limit=2&cursor=${page1.nextCursor}`, { apiKey });
    const page2 = second.json<Schemas["AppList"]>();
    expect(page2.data.map((a) => a.name)).toEqual(["one"]);
    expect(page2.nextCursor).toBeNull();
  });

  it("answers 404 for an unknown app and 422 for a bad cursor", async () => {
    const { apiKey } = await server.createTenant();
    const missing = await server.request("/v1/apps/app_missing", { apiKey });
    expect(missing.status).toBe(404);
    expect((await problemOf(missing)).code).toBe("not_found");
    expect((await server.request("/v1/apps?cursor=nope", { apiKey })).status).toBe(422);
  });
});

describe("updating apps", () => {
  it("changes fields, rotates the token (re-encrypted, never returned) and keeps the URLs", async () => {
    const { apiKey } = await server.createTenant();
    const app = await createApp(apiKey, { messages: { notInService: "old", notAllowed: "no" } });
    const rotated = newToken();
    const r = await call(`/v1/apps/${app.id}`, {
      method: "PATCH",
      apiKey,
      json: { name: "Renamed", vobizAuthToken: rotated, signatureRequired: false, defaultCountry: "GB", ringTimeoutSeconds: 20, messages: { unavailable: "Try later." } },
    });
    expect(r.res.status).toBe(200);
    const updated = r.json<App>();
    expect(updated).toEqual({
      ...app,
      name: "Renamed",
      signatureRequired: false,
      defaultCountry: "GB",
      ringTimeoutSeconds: 20,
      messages: { unavailable: "Try later." },
    });
    const row = await storedRow(app.id);
    expect(server.deps.keys.decrypt(row.auth_token_enc)).toBe(rotated);
    expect(row.messages).toEqual({ unavailable: "Try later." });

    // One field at a time leaves the rest alone.
    const r2 = await call(`/v1/apps/${app.id}`, { method: "PATCH", apiKey, json: { vobizAuthId: "MA_NEW" } });
    expect(r2.json<App>()).toEqual({ ...updated, vobizAuthId: "MA_NEW" });
    expect(server.deps.keys.decrypt((await storedRow(app.id)).auth_token_enc)).toBe(rotated);
    expect((await call(`/v1/apps/${app.id}`, { apiKey })).json<App>()).toEqual({ ...updated, vobizAuthId: "MA_NEW" });
  });

  it("refuses an empty or invalid patch with 422 and an unknown app with 404", async () => {
    const { apiKey } = await server.createTenant();
    const app = await createApp(apiKey);
    for (const [json, path] of [
      [{}, "/body"],
      [{ ringTimeoutSeconds: 500 }, "/body/ringTimeoutSeconds"],
      [{ maxCallSeconds: 30 }, "/body/maxCallSeconds"],
      [{ vobizAuthToken: "" }, "/body/vobizAuthToken"],
      [{ urlSecret: "x" }, "/body/urlSecret"],
    ] as const) {
      const res = await server.request(`/v1/apps/${app.id}`, { method: "PATCH", apiKey, json });
      expect(res.status, JSON.stringify(json)).toBe(422);
      expect((await problemOf(res)).errors?.map((e) => e.path)).toContain(path);
    }
    const missing = await server.request("/v1/apps/app_missing", { method: "PATCH", apiKey, json: { name: "x" } });
    expect(missing.status).toBe(404);
  });
});

describe("tenant isolation", () => {
  it("hides an app from another tenant on every route, and the intruder changes nothing", async () => {
    const owner = await server.createTenant("owner");
    const intruder = await server.createTenant("intruder");
    const app = await createApp(owner.apiKey);
    await expectInvisibleToOtherTenant(server, intruder.apiKey, [
      { method: "GET", path: `/v1/apps/${app.id}` },
      { method: "PATCH", path: `/v1/apps/${app.id}`, json: { name: "pwned", vobizAuthToken: "intruder-token" } },
    ]);
    // The same 404 as for an app that never existed.
    await expectInvisibleToOtherTenant(server, intruder.apiKey, [{ method: "GET", path: "/v1/apps/app_never" }]);
    await expectNotListed(server, intruder.apiKey, "/v1/apps", [app.id]);

    const after = await call(`/v1/apps/${app.id}`, { apiKey: owner.apiKey });
    expect(after.json<App>()).toEqual(app);
    expect(server.deps.keys.decrypt((await storedRow(app.id)).auth_token_enc)).not.toBe("intruder-token");
  });
});
