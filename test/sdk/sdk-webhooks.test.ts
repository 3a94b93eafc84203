// The BUILT SDK's event resources (webhookEndpoints, events, webhooks.fetchJwks) against a tiny local node:http server,
// and the edges of webhooks.verify / verifyWithJwks that sdk-webhook-verify.test.ts does not cover: header shapes,
// signature order, clock options, raw bytes, malformed keys. Deliveries are signed here with node:crypto.
import { createHmac, generateKeyPairSync, sign } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  Maskline,
  NotFoundError,
  WebhookVerificationError,
  webhooks,
  type Event,
  type PublicJwk,
  type WebhookDelivery,
  type WebhookEndpoint,
} from "@maskline/sdk";

interface Seen {
  method: string;
  url: URL;
  headers: IncomingMessage["headers"];
  body: string;
}
type Handler = (req: Seen, res: ServerResponse) => void;

let server: Server;
let baseUrl: string;
let seen: Seen[] = [];
let handler: Handler = (_req, res) => json(res, 500, {});

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (body += c));
    req.on("end", () => {
      const entry: Seen = { method: req.method ?? "", url: new URL(req.url ?? "/", "http://x"), headers: req.headers, body };
      seen.push(entry);
      handler(entry, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  seen = [];
});

const client = (): Maskline => new Maskline({ apiKey: "mk_live_test", baseUrl, maxRetries: 0 });
const requests = (): string[] => seen.map((s) => `${s.method} ${s.url.pathname}${s.url.search}`);

const endpoint = (id: string): WebhookEndpoint => ({
  id,
  url: "https://hooks.example.com/maskline",
  events: ["call.started"],
  description: null,
  enabled: true,
  disabledReason: null,
  createdAt: "2026-01-01T00:00:00Z",
  updatedAt: "2026-01-01T00:00:00Z",
});
const delivery = (id: string): WebhookDelivery => ({
  id,
  endpointId: "whe_1",
  eventId: "evt_1",
  eventType: "call.started",
  attempt: 1,
  outcome: "succeeded",
  statusCode: 204,
  error: null,
  durationMs: 12,
  createdAt: "2026-01-01T00:00:00Z",
});
const callEvent = (id: string): Event => ({
  id,
  type: "call.started",
  createdAt: "2026-01-01T00:00:00Z",
  data: { id: "call_1", decision: "bridged" } as never,
});

describe("webhookEndpoints", () => {
  it("create, get, update, delete and rotateSecret send their methods, paths and bodies", async () => {
    handler = (r, res) => {
      if (r.method === "DELETE") {
        res.writeHead(204);
        res.end();
      } else if (r.url.pathname.endsWith("/rotate-secret")) json(res, 200, { secret: "whsec_new" });
      else json(res, r.method === "POST" ? 201 : 200, { ...endpoint("whe_1"), secret: "whsec_first" });
    };
    const m = client();
    const created = await m.webhookEndpoints.create({ url: "https://hooks.example.com/maskline", events: ["call.started"] });
    expect(created.secret).toBe("whsec_first");
    expect((await m.webhookEndpoints.get("whe_1")).id).toBe("whe_1");
    await m.webhookEndpoints.update("whe_1", { enabled: false, description: null });
    await expect(m.webhookEndpoints.delete("whe_1")).resolves.toBeUndefined();
    expect(await m.webhookEndpoints.rotateSecret("whe_1")).toEqual({ secret: "whsec_new" });

    expect(requests()).toEqual([
      "POST /v1/webhook-endpoints",
      "GET /v1/webhook-endpoints/whe_1",
      "PATCH /v1/webhook-endpoints/whe_1",
      "DELETE /v1/webhook-endpoints/whe_1",
      "POST /v1/webhook-endpoints/whe_1/rotate-secret",
    ]);
    expect(JSON.parse(seen[0]?.body ?? "")).toEqual({ url: "https://hooks.example.com/maskline", events: ["call.started"] });
    expect(JSON.parse(seen[2]?.body ?? "")).toEqual({ enabled: false, description: null });
    expect(seen.every((s) => s.headers.authorization === "Bearer mk_live_test")).toBe(true);
    // POSTs carry an Idempotency-Key like every other create.
    expect(seen[0]?.headers["idempotency-key"]).toBeTruthy();
    expect(seen[4]?.headers["idempotency-key"]).toBeTruthy();
  });

  it("list() walks the pages by cursor", async () => {
    handler = (r, res) =>
      r.url.searchParams.get("cursor") === "c2"
        ? json(res, 200, { data: [endpoint("whe_3")], nextCursor: null })
        : json(res, 200, { data: [endpoint("whe_1"), endpoint("whe_2")], nextCursor: "c2" });
    const ids: string[] = [];
    for await (const e of client().webhookEndpoints.list({ limit: 2 })) ids.push(e.id);
    expect(ids).toEqual(["whe_1", "whe_2", "whe_3"]);
    expect(requests()).toEqual(["GET /v1/webhook-endpoints?limit=2", "GET /v1/webhook-endpoints?limit=2&cursor=c2"]);
  });

  it("listDeliveries(id, { eventId }) keeps the path and filter on every page", async () => {
    handler = (r, res) =>
      r.url.searchParams.get("cursor") === "c2"
        ? json(res, 200, { data: [delivery("whd_2")], nextCursor: null })
        : json(res, 200, { data: [delivery("whd_1")], nextCursor: "c2" });
    const page = await client().webhookEndpoints.listDeliveries("whe_1", { eventId: "evt_1", limit: 1 });
    expect(page.data.map((d) => d.id)).toEqual(["whd_1"]);
    expect(page.hasMore).toBe(true);
    expect((await page.nextPage())?.data.map((d) => d.outcome)).toEqual(["succeeded"]);
    expect(requests()).toEqual([
      "GET /v1/webhook-endpoints/whe_1/deliveries?eventId=evt_1&limit=1",
      "GET /v1/webhook-endpoints/whe_1/deliveries?eventId=evt_1&limit=1&cursor=c2",
    ]);
  });

  it("an unknown endpoint is a NotFoundError", async () => {
    handler = (_r, res) => {
      res.writeHead(404, { "content-type": "application/problem+json" });
      res.end(JSON.stringify({ type: "about:blank", title: "Not Found", status: 404, code: "not_found" }));
    };
    await expect(client().webhookEndpoints.get("whe_missing")).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe("events", () => {
  it("list({ type }) walks the pages, and the events come back typed by type", async () => {
    handler = (r, res) =>
      r.url.searchParams.get("cursor") === "c2"
        ? json(res, 200, { data: [callEvent("evt_2")], nextCursor: null })
        : json(res, 200, { data: [callEvent("evt_1")], nextCursor: "c2" });
    const decisions: string[] = [];
    for await (const e of client().events.list({ type: "call.started", limit: 1 })) {
      if (e.type === "call.started") decisions.push(`${e.id}:${e.data.decision}`);
    }
    expect(decisions).toEqual(["evt_1:bridged", "evt_2:bridged"]);
    expect(requests()).toEqual(["GET /v1/events?type=call.started&limit=1", "GET /v1/events?type=call.started&limit=1&cursor=c2"]);
  });

  it("get(id) and redeliver(id) call their paths", async () => {
    handler = (r, res) =>
      r.method === "POST" ? json(res, 202, { eventId: "evt_1", endpoints: 2 }) : json(res, 200, callEvent("evt_1"));
    const m = client();
    expect((await m.events.get("evt_1")).type).toBe("call.started");
    expect(await m.events.redeliver("evt_1")).toEqual({ eventId: "evt_1", endpoints: 2 });
    expect(requests()).toEqual(["GET /v1/events/evt_1", "POST /v1/events/evt_1/redeliver"]);
  });
});

// ——— signing, as the service does it ———

const secret = "whsec_" + Buffer.alloc(32, 7).toString("base64");
const { privateKey, publicKey } = generateKeyPairSync("ed25519");
const publicJwk = { ...publicKey.export({ format: "jwk" }), kid: "k1", alg: "EdDSA", use: "sig" } as PublicJwk;
const NOW = 1_800_000_000;
const at = (seconds: number) => ({ now: () => new Date(seconds * 1000) });

function signatures(id: string, timestamp: string, body: Buffer) {
  const content = Buffer.concat([Buffer.from(`${id}.${timestamp}.`), body]);
  const key = Buffer.from(secret.slice("whsec_".length), "base64");
  return {
    v1: `v1,${createHmac("sha256", key).update(content).digest("base64")}`,
    v1a: `v1a,${sign(null, content, privateKey).toString("base64")}`,
  };
}

const body = JSON.stringify({ id: "evt_9", type: "pool.exhausted", createdAt: "2026-01-01T00:00:00Z", data: { pool: "north", appId: "app_1" } });
const timestamp = String(NOW);
const { v1, v1a } = signatures("evt_9", timestamp, Buffer.from(body));
const nodeHeaders = { "webhook-id": "evt_9", "webhook-timestamp": timestamp, "webhook-signature": `${v1} ${v1a}` };

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(WebhookVerificationError);
    return (err as WebhookVerificationError).reason;
  }
  throw new Error("expected a WebhookVerificationError");
}

describe("webhooks.verify edges", () => {
  it("finds the v1 signature in any position, among unknown versions", () => {
    const h = { ...nodeHeaders, "webhook-signature": `v2,whatever ${v1a} ${v1}` };
    const event = webhooks.verify(body, h, secret, at(NOW));
    expect(event.type).toBe("pool.exhausted");
    if (event.type === "pool.exhausted") expect(event.data.pool).toBe("north");
  });

  it("reads a Map, mixed-case record keys, node's string[] values and a Headers that got the signature twice", () => {
    expect(webhooks.verify(body, new Map(Object.entries(nodeHeaders)), secret, at(NOW)).id).toBe("evt_9");
    expect(webhooks.verify(body, { "Webhook-Id": "evt_9", "Webhook-Timestamp": timestamp, "Webhook-Signature": v1 }, secret, at(NOW)).id).toBe("evt_9");
    expect(webhooks.verify(body, { ...nodeHeaders, "webhook-signature": [v1a, v1] }, secret, at(NOW)).id).toBe("evt_9");
    const twice = new Headers({ "webhook-id": "evt_9", "webhook-timestamp": timestamp });
    twice.append("webhook-signature", v1a);
    twice.append("webhook-signature", v1);
    expect(webhooks.verify(body, twice, secret, at(NOW)).id).toBe("evt_9");
  });

  it("verifies the exact bytes of a Uint8Array body", () => {
    const bytes = new Uint8Array(Buffer.from(body));
    expect(webhooks.verify(bytes, nodeHeaders, secret, at(NOW)).id).toBe("evt_9");
    // A body that is not UTF-8 cannot be turned into a match by decoding it.
    const raw = Buffer.concat([Buffer.from(body), Buffer.from([0xff])]);
    const replaced = Buffer.from(raw.toString("utf8"));
    const signedReplaced = signatures("evt_9", timestamp, replaced).v1;
    expect(refusal(() => webhooks.verify(raw, { ...nodeHeaders, "webhook-signature": signedReplaced }, secret, at(NOW)))).toBe(
      "no_matching_signature",
    );
  });

  it("keeps to the 5-minute window at its edges, and honours toleranceSeconds", () => {
    expect(webhooks.verify(body, nodeHeaders, secret, at(NOW + 300)).id).toBe("evt_9");
    expect(webhooks.verify(body, nodeHeaders, secret, at(NOW - 300)).id).toBe("evt_9");
    expect(refusal(() => webhooks.verify(body, nodeHeaders, secret, at(NOW + 301)))).toBe("timestamp_out_of_tolerance");
    expect(refusal(() => webhooks.verify(body, nodeHeaders, secret, { ...at(NOW + 20), toleranceSeconds: 10 }))).toBe(
      "timestamp_out_of_tolerance",
    );
  });

  it("refuses a timestamp that is not integer seconds, an empty header and a bare secret", () => {
    for (const bad of ["1800000000.5", "-1800000000", "soon", "1800000000000"]) {
      expect(refusal(() => webhooks.verify(body, { ...nodeHeaders, "webhook-timestamp": bad }, secret, at(NOW)))).toBe("invalid_timestamp");
    }
    expect(refusal(() => webhooks.verify(body, { ...nodeHeaders, "webhook-signature": "" }, secret, at(NOW)))).toBe("missing_header");
    expect(refusal(() => webhooks.verify(body, nodeHeaders, secret.slice("whsec_".length), at(NOW)))).toBe("invalid_secret");
    expect(refusal(() => webhooks.verify(body, nodeHeaders, "whsec_", at(NOW)))).toBe("invalid_secret");
  });

  it("refuses a correctly signed body that is not JSON, and never matches on the v1a entry alone", () => {
    const text = "not json";
    const signed = signatures("evt_9", timestamp, Buffer.from(text));
    expect(refusal(() => webhooks.verify(text, { ...nodeHeaders, "webhook-signature": signed.v1 }, secret, at(NOW)))).toBe("invalid_body");
    expect(refusal(() => webhooks.verify(body, { ...nodeHeaders, "webhook-signature": v1a }, secret, at(NOW)))).toBe("no_matching_signature");
  });
});

describe("webhooks.verifyWithJwks edges", () => {
  it("skips keys it cannot use and still verifies with the good one", () => {
    const junk = [{ kty: "RSA", n: "x", e: "AQAB" }, { kty: "OKP", crv: "Ed25519", x: "!!" }, { kty: "OKP", crv: "X25519", x: publicJwk.x }] as PublicJwk[];
    expect(webhooks.verifyWithJwks(body, nodeHeaders, { keys: [...junk, publicJwk] }, at(NOW)).id).toBe("evt_9");
    expect(refusal(() => webhooks.verifyWithJwks(body, nodeHeaders, { keys: junk }, at(NOW)))).toBe("no_matching_signature");
  });

  it("refuses a malformed v1a value, a v1 entry alone and a stale timestamp", () => {
    expect(refusal(() => webhooks.verifyWithJwks(body, { ...nodeHeaders, "webhook-signature": "v1a,AAAA" }, { keys: [publicJwk] }, at(NOW)))).toBe(
      "no_matching_signature",
    );
    expect(refusal(() => webhooks.verifyWithJwks(body, { ...nodeHeaders, "webhook-signature": v1 }, { keys: [publicJwk] }, at(NOW)))).toBe(
      "no_matching_signature",
    );
    expect(refusal(() => webhooks.verifyWithJwks(body, nodeHeaders, { keys: [publicJwk] }, at(NOW - 301)))).toBe(
      "timestamp_out_of_tolerance",
    );
  });
});

describe("webhooks.fetchJwks", () => {
  it("GETs /.well-known/jwks.json without credentials, and its keys verify a delivery", async () => {
    handler = (_r, res) => json(res, 200, { keys: [publicJwk] });
    const jwks = await client().webhooks.fetchJwks();
    expect(requests()).toEqual(["GET /.well-known/jwks.json"]);
    expect(seen[0]?.headers.authorization).toBeUndefined();
    expect(jwks.keys[0]?.kid).toBe("k1");
    expect(client().webhooks.verifyWithJwks(body, nodeHeaders, jwks, at(NOW)).id).toBe("evt_9");
  });

  it("works on an operator-only client too", async () => {
    handler = (_r, res) => json(res, 200, { keys: [publicJwk] });
    await new Maskline({ adminToken: "admin_tok", baseUrl }).webhooks.fetchJwks();
    expect(seen[0]?.headers.authorization).toBeUndefined();
  });
});

describe("packaging", () => {
  it("the CJS build exports the standalone verifier and its error", () => {
    const cjs = createRequire(import.meta.url)("@maskline/sdk") as typeof import("@maskline/sdk");
    expect(cjs.verifyWebhook(body, nodeHeaders, secret, at(NOW)).id).toBe("evt_9");
    let caught: unknown;
    try {
      cjs.webhooks.verify(body + " ", nodeHeaders, secret, at(NOW));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(cjs.WebhookVerificationError);
  });
});
