/**
 * A delivery backend using Maskline: when an order is placed it opens a masked session between the courier and the
 * customer, when the order is delivered it closes it, and it takes Maskline's events at /webhooks/maskline, verified
 * with the endpoint's secret before anything in them is believed.
 *
 *   POST /orders                 {"courierPhone": "+91…", "customerPhone": "+91…"} → the order, with the numbers to dial
 *   POST /orders/{id}/delivered  closes the session: the masking numbers stop connecting the two at once
 *   GET  /orders/{id}            the order, with the session status and calls Maskline reported
 *   POST /webhooks/maskline      Maskline's signed event deliveries
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Maskline, MasklineError, PoolExhaustedError, WebhookVerificationError, webhooks, type Event } from "@maskline/sdk";
import { Orders, type Order } from "./orders.js";

export interface OrderBackendOptions {
  maskline: Maskline;
  /** The webhook endpoint's secret (`whsec_…`), from `webhookEndpoints.create` or `rotateSecret`. */
  webhookSecret: string;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function send(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) return void res.writeHead(status).end();
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

export function createOrderBackend({ maskline, webhookSecret }: OrderBackendOptions): Handler {
  const orders = new Orders();
  /** Event ids already applied: delivery is at least once, and a redelivery carries the same id. */
  const handled = new Set<string>();

  async function placeOrder(body: { courierPhone?: string; customerPhone?: string }): Promise<[number, unknown]> {
    if (!body.courierPhone || !body.customerPhone) return [422, { error: "courierPhone and customerPhone are required" }];
    const order = orders.create();
    try {
      const session = await maskline.sessions.create(
        {
          participants: [
            { number: body.courierPhone, label: "courier" },
            { number: body.customerPhone, label: "customer" },
          ],
          reference: order.id,
          ttlSeconds: 4 * 3600, // longer than any delivery; closing it on delivery is what ends it
        },
        // Retrying this call (ours or the SDK's) can never open a second session for the order.
        { idempotencyKey: `${order.id}-session` },
      );
      const [courier, customer] = session.participants;
      Object.assign(order, { sessionId: session.id, sessionStatus: session.status });
      order.courierDials = courier!.proxyNumber;
      order.customerDials = customer!.proxyNumber;
      return [201, order];
    } catch (err) {
      if (err instanceof PoolExhaustedError) {
        // Who is in as many open orders as the pool has numbers: that courier (or customer) needs one closed first.
        const who = err.participant?.label ?? `participant ${err.participant?.position ?? "?"}`;
        return [409, { error: `no masking number free for the ${who}`, order }];
      }
      throw err;
    }
  }

  async function deliver(order: Order): Promise<[number, unknown]> {
    if (order.sessionId) {
      const session = await maskline.sessions.close(order.sessionId); // closing twice is fine
      order.sessionStatus = session.status;
    }
    order.status = "delivered";
    return [200, order];
  }

  /** What an event changes on the order it belongs to (found by the session it names). */
  function apply(event: Event): void {
    if (handled.has(event.id)) return;
    handled.add(event.id);
    if (event.type === "session.closed" || event.type === "session.expired" || event.type === "session.updated") {
      const order = orders.bySession(event.data.id);
      if (order) order.sessionStatus = event.data.status;
    } else if (event.type === "call.completed" || event.type === "call.started") {
      const order = event.data.sessionId ? orders.bySession(event.data.sessionId) : undefined;
      if (!order) return;
      const call = { id: event.data.id, decision: event.data.decision, durationSeconds: event.data.durationSeconds };
      const known = order.calls.findIndex((c) => c.id === call.id);
      if (known >= 0) order.calls[known] = call;
      else order.calls.push(call);
    }
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    const body = await readBody(req);
    if (req.method === "POST" && url.pathname === "/webhooks/maskline") {
      let event: Event;
      try {
        // The raw bytes as received: parsed and re-serialised JSON would no longer match the signature.
        event = webhooks.verify(body, req.headers, webhookSecret);
      } catch (err) {
        if (err instanceof WebhookVerificationError) return send(res, 400, { error: err.reason });
        throw err;
      }
      apply(event);
      return send(res, 204); // answer at once: a slow answer counts as a failure and is delivered again
    }
    if (req.method === "POST" && url.pathname === "/orders") {
      const [status, reply] = await placeOrder(JSON.parse(body.toString("utf8") || "{}") as Record<string, string>);
      return send(res, status, reply);
    }
    const match = /^\/orders\/([\w-]+)(\/delivered)?$/.exec(url.pathname);
    const order = match ? orders.get(match[1]!) : undefined;
    if (order && req.method === "POST" && match![2]) {
      const [status, reply] = await deliver(order);
      return send(res, status, reply);
    }
    if (order && req.method === "GET" && !match![2]) return send(res, 200, order);
    send(res, 404, { error: "not found" });
  }

  return (req, res) => {
    route(req, res).catch((err: unknown) => {
      // A Maskline refusal carries its stable code and request id: log those, answer 502 to our own caller.
      const detail = err instanceof MasklineError ? `${err.code} (request ${err.requestId ?? "?"})` : String(err);
      console.error(`order backend: ${detail}`);
      if (!res.headersSent) send(res, err instanceof MasklineError ? 502 : 500, { error: "upstream failure" });
    });
  };
}
