import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AuthenticationError,
  Maskline,
  NotFoundError,
  PoolExhaustedError,
  ValidationError,
  type Session,
} from "@maskline/sdk";
import { startTestServer, type TestServer } from "../support/harness.js";
import { people, uniqueDids } from "../support/fixtures.js";
import { SCHEMA_DEFAULTS } from "../../openapi/generated/constants.js";

// The built package (sdk/dist, built by `pnpm test`'s pretest) against a real server started here.
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => server?.stop());

describe("@maskline/sdk against the server", () => {
  it("runs an operator and a tenant through the whole masking flow with typed results and errors", async () => {
    const operator = new Maskline({ adminToken: server.adminToken, baseUrl: server.baseUrl });
    const { tenant, apiKey } = await operator.admin.tenants.create({ name: "SDK tenant" });
    expect(tenant.id).toMatch(/^ten_/);

    const maskline = new Maskline({ apiKey: apiKey.secret, baseUrl: server.baseUrl });
    const keys = await maskline.apiKeys.list();
    expect(keys.data.map((k) => k.id)).toContain(apiKey.id);

    const app = await maskline.apps.create({ name: "SDK app", vobizAuthId: "MA_SDK", vobizAuthToken: "sdk-token" });
    expect(app.answerUrl).toContain(`/v1/vobiz/${app.id}/answer`);
    const imported = await maskline.numbers.create({ appId: app.id, numbers: uniqueDids(1) });
    expect(imported.data).toHaveLength(1);

    const [driver, rider1, rider2] = people(3);
    const body = { participants: [{ number: driver!, label: "driver" }, { number: rider1!, label: "rider" }], ttlSeconds: 600 };
    const session: Session = await maskline.sessions.create(body, { idempotencyKey: "sdk-order-1" });
    const again = await maskline.sessions.create(body, { idempotencyKey: "sdk-order-1" });
    expect(again.id).toBe(session.id);

    // One DID: the driver cannot be in a second session at once.
    const exhausted = await maskline.sessions
      .create({ participants: [{ number: driver!, label: "driver" }, { number: rider2! }] })
      .catch((e: unknown) => e);
    expect(exhausted).toBeInstanceOf(PoolExhaustedError);
    expect((exhausted as PoolExhaustedError).code).toBe("pool_exhausted");
    expect((exhausted as PoolExhaustedError).requestId).toMatch(/\S/);
    expect((exhausted as PoolExhaustedError).participant).toEqual({ position: 0, label: "driver" });

    const invalid = await maskline.sessions.create({ participants: [{ number: "nope" }, { number: rider2! }] }).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(ValidationError);

    const closed = await maskline.sessions.close(session.id);
    expect(closed.status).toBe("closed");
    const reopened = await maskline.sessions.create({ participants: [{ number: driver! }, { number: rider2! }] });
    expect(reopened.status).toBe("open");

    const seen: string[] = [];
    for await (const s of maskline.sessions.list({ limit: 1 })) seen.push(s.id);
    expect(seen).toEqual([reopened.id, session.id]);

    const missing = await maskline.sessions.get("ses_missing").catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(NotFoundError);

    // The import named no pool, so its numbers are in the spec's default one.
    const defaultPool = SCHEMA_DEFAULTS.ImportNumbersRequest.pool;
    const pool = await maskline.pools.get(defaultPool);
    expect(pool).toMatchObject({ numbers: 1, activeSessions: 1, busiestParticipantSessions: 1, headroom: 0 });
    const pools: string[] = [];
    for await (const p of maskline.pools.list({ limit: 1 })) pools.push(p.pool);
    expect(pools).toEqual([defaultPool]);

    const pinLength = SCHEMA_DEFAULTS.TenantSettings.pinLength;
    expect(await maskline.settings.get()).toEqual({ retentionDays: SCHEMA_DEFAULTS.TenantSettings.retentionDays, pinLength });
    expect(await maskline.settings.update({ retentionDays: 30 })).toEqual({ retentionDays: 30, pinLength });
    expect(await maskline.settings.get()).toEqual({ retentionDays: 30, pinLength });

    // A revoked key is refused at once, as a typed error.
    const extra = await maskline.apiKeys.create({ name: "short-lived" });
    const shortLived = new Maskline({ apiKey: extra.secret, baseUrl: server.baseUrl, maxRetries: 0 });
    await shortLived.apiKeys.list();
    await maskline.apiKeys.delete(extra.id);
    await expect(shortLived.apiKeys.list()).rejects.toBeInstanceOf(AuthenticationError);
  });
});
