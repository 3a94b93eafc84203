import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/harness.js";
import { problemOf } from "../support/isolation.js";
import { createSession, people, tenantWithPool, type Schemas } from "../support/fixtures.js";
import { purgeExpiredData } from "../../server/src/jobs/sweeper.js";
import { SCHEMA_DEFAULTS } from "../../openapi/generated/constants.js";

const DEFAULT_RETENTION_DAYS = SCHEMA_DEFAULTS.TenantSettings.retentionDays;
const DEFAULT_PIN_LENGTH = SCHEMA_DEFAULTS.TenantSettings.pinLength;

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => server?.stop());

const getSettings = async (apiKey: string) => {
  const res = await server.request("/v1/settings", { apiKey });
  expect(res.status).toBe(200);
  return (await res.json()) as Schemas["TenantSettings"];
};
const patchSettings = (apiKey: string, json: unknown) => server.request("/v1/settings", { method: "PATCH", apiKey, json });

describe("tenant settings", () => {
  it("reads the spec's default retention for a tenant that never chose", async () => {
    const { apiKey } = await server.createTenant();
    expect(await getSettings(apiKey)).toEqual({ retentionDays: DEFAULT_RETENTION_DAYS, pinLength: DEFAULT_PIN_LENGTH });
  });

  it("changes retention for this tenant only and reads it back", async () => {
    const mine = await server.createTenant();
    const theirs = await server.createTenant();
    const res = await patchSettings(mine.apiKey, { retentionDays: 7 });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ retentionDays: 7, pinLength: DEFAULT_PIN_LENGTH });
    expect(await getSettings(mine.apiKey)).toEqual({ retentionDays: 7, pinLength: DEFAULT_PIN_LENGTH });
    expect(await getSettings(theirs.apiKey)).toEqual({ retentionDays: DEFAULT_RETENTION_DAYS, pinLength: DEFAULT_PIN_LENGTH });
    // A second change replaces the first and leaves any other stored setting alone (a key a later version adds).
    await server.deps.db("tenants").where({ id: mine.tenantId }).update({ settings: JSON.stringify({ retentionDays: 7, futureSetting: "kept" }) });
    expect(await (await patchSettings(mine.apiKey, { retentionDays: 3650 })).json()).toEqual({ retentionDays: 3650, pinLength: DEFAULT_PIN_LENGTH });
    const stored = await server.deps.db("tenants").where({ id: mine.tenantId }).first();
    expect(stored.settings).toEqual({ retentionDays: 3650, futureSetting: "kept" });
  });

  it("refuses out-of-range, non-integer, unknown, empty and unparsable changes with a problem and writes nothing", async () => {
    const { apiKey, tenantId } = await server.createTenant();
    await patchSettings(apiKey, { retentionDays: 30 });
    for (const json of [{ retentionDays: 0 }, { retentionDays: 3651 }, { retentionDays: 1.5 }, { retentionDays: "7" }, { retentionDays: null }, { retention: 7 }, {}, []]) {
      const res = await patchSettings(apiKey, json);
      expect(res.status, JSON.stringify(json)).toBe(422);
      expect((await problemOf(res)).code).toBe("validation_failed");
    }
    const wrongType = await server.request("/v1/settings", { method: "PATCH", apiKey, body: "retentionDays=7", headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(wrongType.status).toBe(415);
    expect((await problemOf(wrongType)).code).toBe("unsupported_media_type");
    for (const body of ["{", '"7"']) {
      const notAnObject = await server.request("/v1/settings", { method: "PATCH", apiKey, body, headers: { "content-type": "application/json" } });
      expect(notAnObject.status, body).toBe(400);
      expect((await problemOf(notAnObject)).code).toBe("bad_request");
    }
    expect((await server.deps.db("tenants").where({ id: tenantId }).first()).settings).toEqual({ retentionDays: 30 });
  });

  it("needs a tenant API key: none, a wrong one and the operator token are the same 401", async () => {
    const attempts: Array<Record<string, string>> = [{}, { authorization: "Bearer mk_live_nope" }, { authorization: `Bearer ${server.adminToken}` }];
    for (const headers of attempts) {
      for (const method of ["GET", "PATCH"]) {
        const res = await server.request("/v1/settings", { method, headers, json: method === "PATCH" ? { retentionDays: 1 } : undefined });
        expect(res.status, `${method} ${JSON.stringify(headers)}`).toBe(401);
        expect((await problemOf(res)).code).toBe("unauthorized");
      }
    }
  });

  it("a shortened retention applies at the next purge, for this tenant's data only", async () => {
    const short = await tenantWithPool(server);
    const long = await tenantWithPool(server);
    expect((await patchSettings(short.apiKey, { retentionDays: 1 })).status).toBe(200);
    const ids: Record<string, string> = {};
    for (const [name, t] of [["short", short], ["long", long]] as const) {
      const [a, b] = people(2);
      const res = await createSession(server, t.apiKey, { participants: [{ number: a }, { number: b }] });
      expect(res.status).toBe(201);
      const id = ((await res.json()) as { id: string }).id;
      expect((await server.request(`/v1/sessions/${id}/close`, { method: "POST", apiKey: t.apiKey })).status).toBe(200);
      ids[name] = id;
    }
    await server.deps.db("sessions").whereIn("id", Object.values(ids)).update({ closed_at: new Date(Date.now() - 2 * 86_400_000) });

    // What the recurring retention.purge job runs.
    const purged = await purgeExpiredData(server.deps);
    expect(purged.sessions).toBeGreaterThanOrEqual(1);
    expect((await server.request(`/v1/sessions/${ids.short}`, { apiKey: short.apiKey })).status).toBe(404);
    expect(await server.deps.db("participants").where({ session_id: ids.short }).first()).toBeUndefined();
    expect((await server.request(`/v1/sessions/${ids.long}`, { apiKey: long.apiKey })).status).toBe(200);
  });

  it("a stored retention the spec does not allow reads and purges as the default, and never stops the purge", async () => {
    const unusable = [0, -5, 1.5, 3651, "abc", null];
    const valid = await tenantWithPool(server);
    expect((await patchSettings(valid.apiKey, { retentionDays: 1 })).status).toBe(200);
    const tenants = [valid];
    for (const retentionDays of unusable) {
      const t = await tenantWithPool(server);
      await server.deps.db("tenants").where({ id: t.tenantId }).update({ settings: JSON.stringify({ retentionDays }) });
      expect(await getSettings(t.apiKey), JSON.stringify(retentionDays)).toEqual({ retentionDays: DEFAULT_RETENTION_DAYS, pinLength: DEFAULT_PIN_LENGTH });
      tenants.push(t);
    }
    const ids: string[] = [];
    for (const t of tenants) {
      const [a, b] = people(2);
      const res = await createSession(server, t.apiKey, { participants: [{ number: a }, { number: b }] });
      const id = ((await res.json()) as { id: string }).id;
      expect((await server.request(`/v1/sessions/${id}/close`, { method: "POST", apiKey: t.apiKey })).status).toBe(200);
      ids.push(id);
    }
    await server.deps.db("sessions").whereIn("id", ids).update({ closed_at: new Date(Date.now() - 2 * 86_400_000) });

    await purgeExpiredData(server.deps);
    expect((await server.request(`/v1/sessions/${ids[0]}`, { apiKey: valid.apiKey })).status).toBe(404);
    for (const [i, t] of tenants.entries()) {
      if (i === 0) continue;
      expect((await server.request(`/v1/sessions/${ids[i]}`, { apiKey: t.apiKey })).status, JSON.stringify(unusable[i - 1])).toBe(200);
    }
  });
});
