/**
 * A tenant's event receiver, for tests: a real HTTP server on 127.0.0.1 that records every delivery and answers as
 * told, with signature checks of its own (node:crypto, written from the Standard Webhooks 1.0 text, sharing no
 * code with the server or the SDK).
 */
import { createHmac, createPublicKey, timingSafeEqual, verify } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface Delivery {
  headers: IncomingHttpHeaders;
  body: string;
  event: { id: string; type: string; createdAt: string; data: Record<string, unknown> };
  path: string;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  /** Only for deliveries to this path (one endpoint's); any delivery when absent. */
  path?: string;
}

export interface EventReceiver {
  url(path?: string): string;
  deliveries: Delivery[];
  connections: number;
  /** How to answer the next deliveries (in order); when empty, `fallback`. */
  replies: Reply[];
  fallback: Reply;
  close(): Promise<void>;
}

export async function startEventReceiver(): Promise<EventReceiver> {
  const receiver: EventReceiver = {
    url: (path = "/hooks") => `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`,
    deliveries: [],
    connections: 0,
    replies: [],
    fallback: { status: 204 },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      receiver.deliveries.push({ headers: req.headers, body, event: JSON.parse(body) as Delivery["event"], path: req.url ?? "" });
      const at = receiver.replies.findIndex((r) => r.path === undefined || r.path === req.url);
      const reply = at === -1 ? receiver.fallback : receiver.replies.splice(at, 1)[0]!;
      res.writeHead(reply.status, reply.headers).end();
    });
  });
  server.on("connection", () => {
    receiver.connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return receiver;
}

function signatures(headers: IncomingHttpHeaders, version: string): Buffer[] {
  return String(headers["webhook-signature"] ?? "")
    .split(" ")
    .filter((s) => s.startsWith(`${version},`))
    .map((s) => Buffer.from(s.slice(version.length + 1), "base64"));
}

const content = (d: Delivery) => `${String(d.headers["webhook-id"])}.${String(d.headers["webhook-timestamp"])}.${d.body}`;

/** True when a `v1` entry is the HMAC-SHA256 of the content keyed with the secret's bytes. */
export function verifyV1(secret: string, d: Delivery): boolean {
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const expected = createHmac("sha256", key).update(content(d)).digest();
  return signatures(d.headers, "v1").some((s) => s.length === expected.length && timingSafeEqual(s, expected));
}

/** True when a `v1a` entry is an Ed25519 signature of the content by one of the JWK Set's keys. */
export function verifyV1a(jwks: { keys: Array<Record<string, unknown>> }, d: Delivery): boolean {
  const keys = jwks.keys.map((jwk) => createPublicKey({ key: jwk as never, format: "jwk" }));
  return signatures(d.headers, "v1a").some((s) => keys.some((k) => verify(null, Buffer.from(content(d)), k, s)));
}
