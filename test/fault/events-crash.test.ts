/**
 * Events survive the service being killed: the real service, a child process on the test's own Postgres, is
 * killed with SIGKILL (1) right after a session closes, before its events can have been delivered, and (2) while a
 * delivery waits for its retry. After each restart every event reaches the receiver, once per endpoint, under the
 * webhook-id it was first sent with.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { TEST_ADMIN_TOKEN, TEST_MASTER_KEY, TEST_SIGNING_KEY } from "../support/env.js";
import { startOwnedPostgres, startServiceProcess, waitFor, type OwnedPostgres, type ServiceProcess } from "../support/owned/index.js";
import { apiClient, describeReply, type Api } from "./api.js";
import { PUBLIC_BASE_URL } from "./carrier.js";
import { describeWithOwnedServices } from "./suite.js";
import { openSession, tenantWithPool, type TenantWithPool } from "./world.js";

interface Received {
  id: string;
  type: string;
  status: number;
}

describeWithOwnedServices("fault: the service is killed with events recorded but not yet delivered", () => {
  let postgres: OwnedPostgres;
  let receiver: Server;
  let receiverUrl = "";
  const received: Received[] = [];
  /** Set: the next session.created to arrive is answered 500 (its retry then succeeds). */
  let failNextCreated = false;
  const started: ServiceProcess[] = [];
  let service: ServiceProcess;
  let api: Api;
  let t: TenantWithPool;

  const startService = async () => {
    const proc = await startServiceProcess({
      env: {
        DATABASE_URL: postgres.url,
        MASKLINE_MASTER_KEY: TEST_MASTER_KEY,
        MASKLINE_SIGNING_KEY: TEST_SIGNING_KEY,
        MASKLINE_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
        MASKLINE_WEBHOOK_ALLOW_PRIVATE: "true",
        PUBLIC_BASE_URL,
        LOG_LEVEL: "warn",
      },
    });
    started.push(proc);
    await proc.waitReady(60_000);
    service = proc;
    return proc;
  };

  const deliveriesOf = (id: string) => received.filter((r) => r.id === id);
  const eventIds = async (type: string) => {
    const rows = await postgres.query<{ id: string }>("SELECT id FROM events WHERE type = $1 ORDER BY id", [type]);
    return rows.map((r) => r.id);
  };

  beforeAll(async () => {
    postgres = await startOwnedPostgres();
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const id = String(req.headers["webhook-id"]);
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { id: string; type: string };
        const fail = failNextCreated && body.type === "session.created" && deliveriesOf(id).length === 0;
        if (fail) failNextCreated = false;
        const status = fail ? 500 : 200;
        received.push({ id, type: body.type, status });
        expect(body.id).toBe(id);
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
    await startService();
    api = apiClient(() => service.baseUrl);
    t = await tenantWithPool(api);
    const endpoint = await api.request("/v1/webhook-endpoints", { method: "POST", apiKey: t.apiKey, json: { url: receiverUrl } });
    if (endpoint.status !== 201) throw new Error(`registering the endpoint: ${describeReply(endpoint)}`);
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled(started.map((s) => s.stop()));
    await new Promise<void>((resolve) => receiver?.close(() => resolve()));
    await postgres?.destroy();
  }, 60_000);

  it("a kill right after a session closes loses none of its events: each arrives once after the restart", async () => {
    const session = await openSession(api, t);
    const closed = await api.request(`/v1/sessions/${session.id}/close`, { method: "POST", apiKey: t.apiKey });
    expect(closed.status, describeReply(closed)).toBe(200);
    // Immediately: the outbox dispatcher runs once a second, so the close's event is recorded and not yet sent.
    expect((await service.kill("SIGKILL")).signal).toBe("SIGKILL");
    const [closedEvent] = await postgres.query<{ id: string }>(
      "SELECT id FROM events WHERE type = 'session.closed' AND data->>'id' = $1",
      [session.id],
    );
    expect(closedEvent, "the close committed its event").toBeDefined();

    await startService();
    await waitFor("the session.closed event delivered", async () => (deliveriesOf(closedEvent!.id).length > 0 ? true : undefined), {
      timeoutMs: 60_000,
      intervalMs: 100,
    });
    // Settle, then count: no event of this session arrives twice.
    await new Promise((r) => setTimeout(r, 2_000));
    expect(deliveriesOf(closedEvent!.id)).toEqual([{ id: closedEvent!.id, type: "session.closed", status: 200 }]);
    for (const id of await eventIds("session.created")) expect(deliveriesOf(id), `session.created ${id}`).toHaveLength(1);
  }, 120_000);

  it("a kill while a delivery waits for its retry: the retry is made after the restart, with the same webhook-id", async () => {
    // The next session's created event fails once (500) and is retried 5 s later; the kill lands inside those 5 s.
    const before = new Set(await eventIds("session.created"));
    failNextCreated = true;
    const session = await openSession(api, t);
    const eventId = (await eventIds("session.created")).find((id) => !before.has(id))!;
    await waitFor("the first attempt, answered 500", async () => (deliveriesOf(eventId).length === 1 ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 50,
    });
    const [job] = await postgres.query<{ status: string; attempts: number }>(
      "SELECT status, attempts FROM jobs WHERE kind = 'webhook.deliver' AND payload->>'eventId' = $1",
      [eventId],
    );
    expect(job).toMatchObject({ status: "failed", attempts: 1 });
    expect((await service.kill("SIGKILL")).signal).toBe("SIGKILL");

    await startService();
    await waitFor("the retry delivered", async () => (deliveriesOf(eventId).some((r) => r.status === 200) ? true : undefined), {
      timeoutMs: 60_000,
      intervalMs: 100,
    });
    await new Promise((r) => setTimeout(r, 2_000));
    expect(deliveriesOf(eventId).map((r) => r.status)).toEqual([500, 200]);
    const attempts = await postgres.query<{ attempt: number; status_code: number }>(
      "SELECT attempt, status_code FROM webhook_deliveries WHERE event_id = $1 ORDER BY attempt",
      [eventId],
    );
    expect(attempts).toEqual([
      { attempt: 1, status_code: 500 },
      { attempt: 2, status_code: 200 },
    ]);
    expect(session.id).toMatch(/^ses_/);
  }, 120_000);

});
