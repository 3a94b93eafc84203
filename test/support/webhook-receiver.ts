/**
 * A tenant's event receiver, for tests: a real HTTP server on 127.0.0.1 that records every request exactly as it
 * arrived (raw body text, headers, arrival time) and answers with a status the test programs, and a verifier of
 * Standard Webhooks 1.0 signatures written here from the contract alone (node:crypto only). It deliberately imports
 * nothing from the server or the SDK: a verifier sharing the signer's code would agree with a wrong signer.
 */
import { createHmac, createPublicKey, timingSafeEqual, verify, type JsonWebKey } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface ReceivedRequest {
  method: string;
  /** Path and query, as requested. */
  path: string;
  headers: IncomingHttpHeaders;
  /** The body bytes as UTF-8 text, untouched (signatures are over exactly these). */
  body: string;
  /** Real time of arrival (not a test clock's). */
  receivedAt: Date;
}

export interface Reply {
  status: number;
  /** Sent as the Retry-After header (seconds, or an HTTP date). */
  retryAfter?: number | string;
  body?: string;
}

export type Responder = (req: ReceivedRequest) => Reply | number;

export interface WebhookReceiver {
  /** `http://127.0.0.1:<port>/hooks`. */
  readonly url: string;
  readonly port: number;
  /** Every request, in arrival order. */
  readonly requests: ReceivedRequest[];
  /** TCP connections accepted so far (a refused endpoint must see none). */
  readonly connections: number;
  /** Answers for the next requests, one each, in order; once used up, the responder answers. */
  queue(...replies: Array<Reply | number>): void;
  /** How requests are answered when the queue is empty. Default: 200. */
  respondWith(responder: Responder): void;
  /** The requests carrying this webhook-id. */
  deliveriesOf(webhookId: string): ReceivedRequest[];
  /** The parsed bodies, in arrival order. */
  events(): WebhookBody[];
  close(): Promise<void>;
}

export interface WebhookBody {
  id: string;
  type: string;
  createdAt: string;
  data: Record<string, unknown>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

export async function startWebhookReceiver(path = "/hooks"): Promise<WebhookReceiver> {
  const requests: ReceivedRequest[] = [];
  const queued: Array<Reply | number> = [];
  let responder: Responder = () => 200;
  let connections = 0;
  const sockets = new Set<Socket>();

  const server: Server = createServer(async (req, res) => {
    const body = await readBody(req);
    const received: ReceivedRequest = { method: req.method ?? "", path: req.url ?? "", headers: req.headers, body, receivedAt: new Date() };
    requests.push(received);
    const answer = queued.length > 0 ? queued.shift()! : responder(received);
    const reply: Reply = typeof answer === "number" ? { status: answer } : answer;
    const headers: Record<string, string> = { "content-type": "text/plain" };
    if (reply.retryAfter !== undefined) headers["retry-after"] = String(reply.retryAfter);
    res.writeHead(reply.status, headers).end(reply.body ?? "");
  });
  server.on("connection", (socket: Socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}${path}`,
    port,
    requests,
    get connections() {
      return connections;
    },
    queue: (...replies) => void queued.push(...replies),
    respondWith: (r) => {
      responder = r;
    },
    deliveriesOf: (webhookId) => requests.filter((r) => header(r.headers, "webhook-id") === webhookId),
    events: () => requests.map((r) => JSON.parse(r.body) as WebhookBody),
    close: () =>
      new Promise<void>((resolve) => {
        // The sender keeps connections alive: end them, or close() waits for their idle timeout.
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Verification, from the contract: the signed content is `<webhook-id>.<webhook-timestamp>.<raw body>`;
// `webhook-signature` is a space-separated list of `<version>,<base64 signature>`.

export type HeaderBag = IncomingHttpHeaders | Headers | Record<string, string | string[] | undefined>;

export function header(headers: HeaderBag, name: string): string | undefined {
  const value = headers instanceof Headers ? headers.get(name) ?? undefined : headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

export interface SignatureEntry {
  version: string;
  signature: string;
}

/** The entries of `webhook-signature`, in order. */
export function signatureEntries(headers: HeaderBag): SignatureEntry[] {
  const raw = header(headers, "webhook-signature") ?? "";
  return raw
    .split(" ")
    .filter((part) => part.length > 0)
    .map((part) => {
      const comma = part.indexOf(",");
      return comma < 0 ? { version: part, signature: "" } : { version: part.slice(0, comma), signature: part.slice(comma + 1) };
    });
}

export interface VerifyOptions {
  /** The receiver's clock (a test clock when the sender's is one). Default: now. */
  now?: Date;
  /** How far the timestamp may be from `now`. Default 5 minutes, as the contract recommends. */
  toleranceSeconds?: number;
}

/** The content both signatures sign, or null when the id or timestamp header is missing or the timestamp is stale. */
function signedContentOf(headers: HeaderBag, body: string, opts: VerifyOptions): string | null {
  const id = header(headers, "webhook-id");
  const timestamp = header(headers, "webhook-timestamp");
  if (!id || !timestamp || !/^\d+$/.test(timestamp)) return null;
  const now = Math.floor((opts.now ?? new Date()).getTime() / 1000);
  if (Math.abs(now - Number(timestamp)) > (opts.toleranceSeconds ?? 300)) return null;
  return `${id}.${timestamp}.${body}`;
}

/** base64 HMAC-SHA256 of `content`, keyed with the secret's bytes (the base64 after `whsec_`). */
export function v1Signature(secret: string, content: string): string {
  if (!secret.startsWith("whsec_")) throw new Error("an endpoint secret starts with whsec_");
  return createHmac("sha256", Buffer.from(secret.slice("whsec_".length), "base64")).update(content, "utf8").digest("base64");
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The `v1` entries that this secret produced (a rotation leaves two entries, one per secret). */
export function v1EntriesSignedBy(secret: string, headers: HeaderBag, body: string, opts: VerifyOptions = {}): string[] {
  const content = signedContentOf(headers, body, opts);
  if (content === null) return [];
  const expected = v1Signature(secret, content);
  return signatureEntries(headers)
    .filter((e) => e.version === "v1" && sameText(e.signature, expected))
    .map((e) => e.signature);
}

/** True when some `v1` entry is this secret's HMAC of the delivery, and its timestamp is fresh. */
export function verifyV1(secret: string, headers: HeaderBag, body: string, opts: VerifyOptions = {}): boolean {
  return v1EntriesSignedBy(secret, headers, body, opts).length > 0;
}

export interface Jwk extends JsonWebKey {
  kid?: string;
}

/** True when some `v1a` entry is an Ed25519 signature of the delivery by a key in the set, and the timestamp is fresh. */
export function verifyV1a(jwks: { keys: Jwk[] }, headers: HeaderBag, body: string, opts: VerifyOptions = {}): boolean {
  const content = signedContentOf(headers, body, opts);
  if (content === null) return false;
  const keys = jwks.keys
    .filter((k) => k.kty === "OKP" && k.crv === "Ed25519")
    .map((k) => createPublicKey({ key: { kty: k.kty, crv: k.crv, x: k.x }, format: "jwk" }));
  const data = Buffer.from(content, "utf8");
  return signatureEntries(headers)
    .filter((e) => e.version === "v1a")
    .some((e) => {
      const signature = Buffer.from(e.signature, "base64");
      // An Ed25519 signature is 64 bytes; anything else is not one (and verify would only say so more slowly).
      return signature.length === 64 && keys.some((key) => verify(null, data, key, signature));
    });
}
