/**
 * examples/order-backend against a started service: an order opens a session, the courier's call goes through the
 * carrier simulator, the example learns of it from verified events, delivery closes the session.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Maskline } from "@maskline/sdk";
import { createOrderBackend } from "../../examples/order-backend/src/app.js";
import type { Order } from "../../examples/order-backend/src/orders.js";
import { startTestServer, type TestServer } from "../support/harness.js";
import { AUTH_TOKEN, people, tenantWithPool, type TenantFixture } from "../support/fixtures.js";
import { VobizSimulator } from "../sim/vobiz-simulator.js";
import { startJobRunner, type JobRunner } from "../../server/src/jobs/index.js";

let service: TestServer;
let shop: Server;
let shopUrl: string;
let t: TenantFixture;
let jobs: JobRunner;
beforeAll(async () => {
  // As `pnpm start` runs: the service's own job runner delivers the events. On an embedded database of its own, so
  // this runner never takes another test file's jobs from a shared Postgres. The example receives events on
  // 127.0.0.1, which the service delivers to only when told it may.
  service = await startTestServer({ env: { DATABASE_URL: "", MASKLINE_WEBHOOK_ALLOW_PRIVATE: "true" } });
  jobs = await startJobRunner(service.deps);
  t = await tenantWithPool(service, { dids: 2 });
  const maskline = new Maskline({ apiKey: t.apiKey, baseUrl: service.baseUrl });
  // The endpoint's URL needs the example's port, and the example needs the endpoint's secret: listen first.
  let handle: ReturnType<typeof createOrderBackend> | undefined;
  shop = createServer((req, res) => handle!(req, res));
  await new Promise<void>((resolve) => shop.listen(0, "127.0.0.1", resolve));
  shopUrl = `http://127.0.0.1:${(shop.address() as AddressInfo).port}`;
  const endpoint = await maskline.webhookEndpoints.create({ url: `${shopUrl}/webhooks/maskline`, description: "order backend" });
  handle = createOrderBackend({ maskline, webhookSecret: endpoint.secret });
});
afterAll(async () => {
  await new Promise((resolve) => shop?.close(resolve));
  await jobs?.stop();
  await service?.stop();
});

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; order: Order }> {
  const res = await fetch(shopUrl + path, {
    method,
    headers: { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, order: (await res.json()) as Order };
}

/** The order once the events the service delivers have brought it to `done` (deliveries are asynchronous). */
async function orderWhen(id: string, done: (order: Order) => boolean): Promise<Order> {
  let order: Order | undefined;
  await expect.poll(async () => done((order = (await call("GET", `/orders/${id}`)).order)), { timeout: 20_000, interval: 200 }).toBe(true);
  return order!;
}

describe("examples/order-backend", () => {
  it("opens a session when an order is placed, records its calls from verified events, closes it on delivery", async () => {
    const [courier, customer] = people(2);
    const placed = await call("POST", "/orders", { courierPhone: courier, customerPhone: customer });
    expect(placed.status).toBe(201);
    expect(placed.order).toMatchObject({ status: "placed", sessionStatus: "open" });
    expect(t.dids).toContain(placed.order.courierDials);
    expect(t.dids).toContain(placed.order.customerDials);

    // The courier dials their masking number; the carrier bridges them to the customer.
    const carrier = new VobizSimulator({ authToken: AUTH_TOKEN, answerUrl: t.app.answerUrl, hangupUrl: t.app.hangupUrl });
    const ringing = await carrier.placeCall({ from: courier!, to: placed.order.courierDials! });
    expect(ringing.kind).toBe("dial");
    await carrier.completeCall(ringing, { dialStatus: "completed", durationSeconds: 42 });
    const called = await orderWhen(placed.order.id, (o) => o.calls.some((c) => c.durationSeconds === 42));
    expect(called.calls).toEqual([expect.objectContaining({ decision: "bridged", durationSeconds: 42 })]);

    const delivered = await call("POST", `/orders/${placed.order.id}/delivered`);
    expect(delivered.order).toMatchObject({ status: "delivered", sessionStatus: "closed" });
    const after = await carrier.placeCall({ from: courier!, to: placed.order.courierDials! });
    expect(after.kind).toBe("reject"); // the masking number no longer connects them
  });

  it("refuses an event delivery that is not signed with the endpoint's secret", async () => {
    const forged = await fetch(`${shopUrl}/webhooks/maskline`, {
      method: "POST",
      headers: { "webhook-id": "evt_forged", "webhook-timestamp": String(Math.floor(Date.now() / 1000)), "webhook-signature": "v1,AAAA" },
      body: JSON.stringify({ id: "evt_forged", type: "session.closed", createdAt: new Date().toISOString(), data: {} }),
    });
    expect(forged.status).toBe(400);
    expect(await forged.json()).toEqual({ error: "no_matching_signature" });
  });
});
