/**
 * The demo's event receiver: a local HTTP server that verifies each delivery with the SDK (as a business's own
 * receiver would) and prints what arrived. Deliveries are at least once, so it de-duplicates on `webhook-id`.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { webhooks, type Event } from "@maskline/sdk";

export interface DemoReceiver {
  url: string;
  /** Verified events, in arrival order, without repeats. */
  events: Event[];
  /** Deliveries refused by verification (there should be none). */
  refused: number;
  setSecret(secret: string): void;
  /** Resolves once `n` distinct events have arrived, or after `ms`. */
  waitFor(n: number, ms: number): Promise<boolean>;
  close(): Promise<void>;
}

function rawBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

export async function startDemoReceiver(onEvent: (event: Event) => void): Promise<DemoReceiver> {
  let secret = "";
  const seen = new Set<string>();
  const receiver: DemoReceiver = {
    url: "",
    events: [],
    refused: 0,
    setSecret: (s) => {
      secret = s;
    },
    async waitFor(n, ms) {
      const until = Date.now() + ms;
      while (receiver.events.length < n && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
      return receiver.events.length >= n;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer(async (req, res) => {
    const body = await rawBody(req);
    try {
      const event = webhooks.verify(body, req.headers, secret);
      if (!seen.has(event.id)) {
        seen.add(event.id);
        receiver.events.push(event);
        onEvent(event);
      }
      res.writeHead(204).end();
    } catch {
      receiver.refused += 1;
      res.writeHead(400).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/maskline-events`;
  return receiver;
}
