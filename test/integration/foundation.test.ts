import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, usingRealServices, type TestServer } from "../support/harness.js";
import { expectInvisibleToOtherTenant, expectNotListed, problemOf } from "../support/isolation.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => server?.stop());

const admin = () => ({ authorization: `Bearer ${server.adminToken}` });

describe("health", () => {
  it("answers /healthz and /readyz with 200 while the database is reachable", async () => {
    expect((await server.request("/healthz")).status).toBe(200);
    const ready = await server.request("/readyz");
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ok" });
  });

  it("echoes a request id on every response and puts it in problems", async () => {
    const res = await server.request("/v1/nowhere");
    expect(res.status).toBe(404);
    const problem = await problemOf(res);
    expect(problem.code).toBe("not_found");
    expect(problem.requestId).toBe(res.headers.get("x-request-id"));
  });

  it("answers a wrong method on a known path with 405 method_not_allowed", async () => {
    const res = await server.request("/v1/api-keys", { method: "PUT" });
    expect(res.status).toBe(405);
    expect((await problemOf(res)).code).toBe("method_not_allowed");
  });
});

describe("operator API", () => {
  it("creates a tenant whose key can list its API keys", async () => {
    const res = await server.request("/v1/admin/tenants", { method: "POST", headers: admin(), json: { name: "Acme" } });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { tenant: { id: string; name: string; createdAt: string }; apiKey: { id: string; secret: string; start: string } };
    expect(body.tenant).toMatchObject({ name: "Acme" });
    expect(body.tenant.id).toMatch(/^ten_/);
    expect(body.apiKey.secret).toMatch(/^mk_live_[1-9A-HJ-NP-Za-km-z]+$/);
    expect(body.apiKey.secret.startsWith(body.apiKey.start)).toBe(true);

    const keys = await server.request("/v1/api-keys", { apiKey: body.apiKey.secret });
    expect(keys.status).toBe(200);
    const list = (await keys.json()) as { data: Array<Record<string, unknown>>; nextCursor: string | null };
    expect(list.data).toHaveLength(1);
    expect(list.data[0]).toMatchObject({ id: body.apiKey.id, start: body.apiKey.start, revokedAt: null });
    expect(list.data[0]).not.toHaveProperty("secret");
    expect(JSON.stringify(list)).not.toContain(body.apiKey.secret);
    expect(list.nextCursor).toBeNull();
  });

  it("refuses missing, malformed and wrong operator tokens alike with 401", async () => {
    const attempts: Array<Record<string, string>> = [{}, { authorization: "Basic abc" }, { authorization: "Bearer wrong-token-wrong-token" }, { authorization: "Bearer" }];
    for (const headers of attempts) {
      const res = await server.request("/v1/admin/tenants", { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toContain("Bearer");
      expect((await problemOf(res)).code).toBe("unauthorized");
    }
  });

  it("refuses a tenant API key on the operator API", async () => {
    const { apiKey } = await server.createTenant();
    const res = await server.request("/v1/admin/tenants", { apiKey });
    expect(res.status).toBe(401);
  });

  it("pages through tenants with a cursor", async () => {
    for (let i = 0; i < 3; i++) await server.createTenant(`page-${i}`);
    const first = (await (await server.request("/v1/admin/tenants?limit=2", { headers: admin() })).json()) as { data: Array<{ id: string }>; nextCursor: string };
    expect(first.data).toHaveLength(2);
    expect(first.nextCursor).toBeTruthy();
    const second = (await (await server.request(`/v1/admin/tenants?limit=2&cursor=${first.nextCursor}`, { headers: admin() })).json()) as { data: Array<{ id: string }> };
    expect(second.data[0]!.id < first.data[1]!.id).toBe(true);
  });

  it("issues extra keys for a tenant and 404s an unknown tenant", async () => {
    const { tenantId } = await server.createTenant();
    const ok = await server.request(`/v1/admin/tenants/${tenantId}/api-keys`, { method: "POST", headers: admin(), json: { name: "ci" } });
    expect(ok.status).toBe(201);
    expect(((await ok.json()) as { name: string }).name).toBe("ci");
    const missing = await server.request(`/v1/admin/tenants/ten_nope/api-keys`, { method: "POST", headers: admin(), json: {} });
    expect(missing.status).toBe(404);
    expect((await problemOf(missing)).code).toBe("not_found");
  });

  it("rejects an invalid body with 422 and the field paths", async () => {
    const res = await server.request("/v1/admin/tenants", { method: "POST", headers: admin(), json: { nom: "x" } });
    expect(res.status).toBe(422);
    const problem = await problemOf(res);
    expect(problem.code).toBe("validation_failed");
    expect(problem.errors).toEqual(
      expect.arrayContaining([
        { path: "/body/name", message: expect.any(String) },
        { path: "/body/nom", message: "is not an allowed property" },
      ]),
    );
  });

  it("rejects a bad query parameter with 422", async () => {
    const res = await server.request("/v1/admin/tenants?limit=1000", { headers: admin() });
    expect(res.status).toBe(422);
    expect((await problemOf(res)).errors?.[0]?.path).toBe("/query/limit");
    const cursor = await server.request("/v1/admin/tenants?cursor=garbage", { headers: admin() });
    expect(cursor.status).toBe(422);
  });

  it("answers a non-JSON body with 415, broken JSON with 400, an oversized body with 413", async () => {
    const form = await server.request("/v1/admin/tenants", {
      method: "POST",
      headers: { ...admin(), "content-type": "application/x-www-form-urlencoded" },
      body: "name=Acme",
    });
    expect(form.status).toBe(415);
    expect((await problemOf(form)).code).toBe("unsupported_media_type");

    const text = await server.request("/v1/admin/tenants", { method: "POST", headers: { ...admin(), "content-type": "text/plain" }, body: "hi" });
    expect(text.status).toBe(415);

    const broken = await server.request("/v1/admin/tenants", { method: "POST", headers: { ...admin(), "content-type": "application/json" }, body: "{\"name\":" });
    expect(broken.status).toBe(400);
    expect((await problemOf(broken)).code).toBe("bad_request");

    const big = await server.request("/v1/admin/tenants", { method: "POST", headers: admin(), json: { name: "x".repeat(200_000) } });
    expect(big.status).toBe(413);
    expect((await problemOf(big)).code).toBe("payload_too_large");
  });

  it("refuses text Postgres cannot store (NUL) with 422, unknown methods with 405, an oversized Idempotency-Key with 422", async () => {
    const nul = await server.request("/v1/admin/tenants", { method: "POST", headers: admin(), json: { name: "bad\u0000name" } });
    expect(nul.status).toBe(422);
    expect((await problemOf(nul)).code).toBe("validation_failed");
    const propfind = await server.request("/v1/api-keys", { method: "PROPFIND" });
    expect(propfind.status).toBe(405);
    const longKey = await server.request("/v1/admin/tenants", { method: "POST", headers: { ...admin(), "idempotency-key": "k".repeat(300) }, json: { name: "x" } });
    expect(longKey.status).toBe(422);
    expect((await problemOf(longKey)).errors?.[0]?.path).toBe("/headers/idempotency-key");
  });

  it("replays a tenant creation repeated with the same Idempotency-Key, and refuses the key with another body", async () => {
    const key = `idem-${Date.now()}`;
    const send = (name: string) =>
      server.request("/v1/admin/tenants", { method: "POST", headers: { ...admin(), "idempotency-key": key }, json: { name } });
    const [a, b] = await Promise.all([send("Same"), send("Same")]);
    const [ja, jb] = (await Promise.all([a.json(), b.json()])) as Array<{ tenant: { id: string } }>;
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect(ja!.tenant.id).toBe(jb!.tenant.id);
    const other = await send("Different");
    expect(other.status).toBe(409);
    expect((await problemOf(other)).code).toBe("idempotency_conflict");
  });
});

describe("tenant API keys", () => {
  it("refuses no key, a malformed header, an unknown key and a revoked key with the same 401", async () => {
    const { apiKey } = await server.createTenant();
    const created = await server.request("/v1/api-keys", { method: "POST", apiKey, json: { name: "temp" } });
    expect(created.status).toBe(201);
    const temp = (await created.json()) as { id: string; secret: string };
    expect((await server.request(`/v1/api-keys/${temp.id}`, { method: "DELETE", apiKey })).status).toBe(204);

    const attempts: Array<Record<string, string>> = [
      {},
      { authorization: apiKey },
      { authorization: `Token ${apiKey}` },
      { authorization: "Bearer mk_live_1111111111111111111111111111" },
      { authorization: `Bearer ${temp.secret}` },
    ];
    const bodies = [];
    for (const headers of attempts) {
      const res = await server.request("/v1/api-keys", { headers });
      expect(res.status).toBe(401);
      const { requestId: _ignored, ...rest } = await problemOf(res);
      bodies.push(rest);
    }
    for (const b of bodies) expect(b).toEqual(bodies[0]);
  });

  it("revoking twice is fine; an unknown key id is 404", async () => {
    const { apiKey } = await server.createTenant();
    const { id } = (await (await server.request("/v1/api-keys", { method: "POST", apiKey, json: {} })).json()) as { id: string };
    expect((await server.request(`/v1/api-keys/${id}`, { method: "DELETE", apiKey })).status).toBe(204);
    expect((await server.request(`/v1/api-keys/${id}`, { method: "DELETE", apiKey })).status).toBe(204);
    const missing = await server.request(`/v1/api-keys/key_unknown`, { method: "DELETE", apiKey });
    expect(missing.status).toBe(404);
  });

  it("lists revoked keys with revokedAt and never a secret", async () => {
    const { apiKey } = await server.createTenant();
    const { id } = (await (await server.request("/v1/api-keys", { method: "POST", apiKey, json: { name: "old" } })).json()) as { id: string };
    await server.request(`/v1/api-keys/${id}`, { method: "DELETE", apiKey });
    const list = (await (await server.request("/v1/api-keys", { apiKey })).json()) as { data: Array<{ id: string; revokedAt: string | null }> };
    expect(list.data.find((k) => k.id === id)?.revokedAt).toEqual(expect.any(String));
    expect(JSON.stringify(list)).not.toMatch(/mk_live_[1-9A-HJ-NP-Za-km-z]{20,}/);
  });

  it("keeps tenants apart: another tenant cannot see or revoke a key", async () => {
    const owner = await server.createTenant("owner");
    const intruder = await server.createTenant("intruder");
    const { id } = (await (await server.request("/v1/api-keys", { method: "POST", apiKey: owner.apiKey, json: {} })).json()) as { id: string };
    await expectInvisibleToOtherTenant(server, intruder.apiKey, [{ method: "DELETE", path: `/v1/api-keys/${id}` }]);
    await expectNotListed(server, intruder.apiKey, "/v1/api-keys", [id]);
    // The owner's key still works: the intruder's DELETE changed nothing.
    const list = (await (await server.request("/v1/api-keys", { apiKey: owner.apiKey })).json()) as { data: Array<{ id: string; revokedAt: string | null }> };
    expect(list.data.find((k) => k.id === id)?.revokedAt).toBeNull();
  });
});

describe("two instances", () => {
  it(`refuse a key revoked through the other at once (${usingRealServices.postgres ? "shared Postgres and Redis" : "shared embedded database"})`, async () => {
    // Embedded PGlite is single-process, so without Postgres the second app shares the first one's runtime.
    const second = usingRealServices.postgres ? await startTestServer() : null;
    try {
      const other = second ?? server;
      const { apiKey } = await server.createTenant();
      const { id, secret } = (await (await server.request("/v1/api-keys", { method: "POST", apiKey, json: {} })).json()) as { id: string; secret: string };
      expect((await other.request("/v1/api-keys", { apiKey: secret })).status).toBe(200);
      expect((await server.request(`/v1/api-keys/${id}`, { method: "DELETE", apiKey })).status).toBe(204);
      expect((await other.request("/v1/api-keys", { apiKey: secret })).status).toBe(401);
    } finally {
      await second?.stop();
    }
  });
});
