/**
 * The webhook POST against real sockets on 127.0.0.1: what it sends, what it makes of the answer, and that a
 * destination the policy refuses gets no connection at all (counted on the server's "connection" event).
 */
import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { ResolvedAddress, Resolver } from "../../server/src/outbound/endpoint-url.js";
import { postWebhook, type PostOptions } from "../../server/src/outbound/post.js";

interface Received {
  method: string | undefined;
  url: string | undefined;
  headers: http.IncomingHttpHeaders;
  body: string;
}

interface LocalServer {
  port: number;
  url: string;
  connections: () => number;
  received: Received[];
  server: http.Server;
}

const servers: http.Server[] = [];

/** An http server on 127.0.0.1 that records every connection and request, answering with `handler`. */
async function startServer(handler: (req: http.IncomingMessage, res: http.ServerResponse) => void = (_, res) => res.end("ok")) {
  const received: Received[] = [];
  let connections = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() });
      handler(req, res);
    });
  });
  server.on("connection", () => connections++);
  servers.push(server);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return { port, url: `http://127.0.0.1:${port}`, connections: () => connections, received, server } satisfies LocalServer;
}

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** Maps names to addresses like DNS would; records what it was asked. */
function mapResolver(table: Record<string, string[]>): Resolver & { asked: string[] } {
  const asked: string[] = [];
  const resolve = async (hostname: string): Promise<ResolvedAddress[]> => {
    asked.push(hostname);
    const addresses = table[hostname];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
    return addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };
  return Object.assign(resolve, { asked });
}

const local = mapResolver({ "hooks.example.test": ["127.0.0.1"], "mixed.example.test": ["93.184.215.14", "127.0.0.1"] });
const lax: PostOptions = { allowPrivate: true, resolve: local, timeoutMs: 5_000 };
const strict: PostOptions = { allowPrivate: false, resolve: local, timeoutMs: 5_000 };
const body = JSON.stringify({ id: "evt_1", type: "session.ended", data: {} });

describe("postWebhook, delivering", () => {
  it("POSTs the body as JSON with its own user agent and the given headers, and returns 200", async () => {
    const receiver = await startServer();
    const result = await postWebhook(`${receiver.url}/hooks/in?token=abc`, body, { "webhook-id": "evt_1", "webhook-signature": "v1,xyz" }, lax);
    expect(result).toMatchObject({ status: 200, error: null, retryAfterMs: null });
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    const [request] = receiver.received;
    expect(request).toMatchObject({ method: "POST", url: "/hooks/in?token=abc", body });
    expect(request!.headers).toMatchObject({
      "content-type": "application/json",
      "user-agent": "Maskline-Webhooks/1",
      "content-length": String(Buffer.byteLength(body)),
      "webhook-id": "evt_1",
      "webhook-signature": "v1,xyz",
    });
  });

  it("keeps its own Content-Type and User-Agent over a caller's", async () => {
    const receiver = await startServer();
    await postWebhook(receiver.url, body, { "Content-Type": "text/plain", "USER-AGENT": "curl" }, lax);
    expect(receiver.received[0]!.headers["content-type"]).toBe("application/json");
    expect(receiver.received[0]!.headers["user-agent"]).toBe("Maskline-Webhooks/1");
  });

  it("resolves a name through the policy's resolver when private addresses are allowed", async () => {
    const receiver = await startServer();
    const result = await postWebhook(`http://hooks.example.test:${receiver.port}/`, body, {}, lax);
    expect(result.status).toBe(200);
    expect(receiver.received[0]!.headers.host).toBe(`hooks.example.test:${receiver.port}`);
  });

  it("reuses a kept-alive connection for the next delivery to the same receiver", async () => {
    const receiver = await startServer();
    expect((await postWebhook(receiver.url, body, {}, lax)).status).toBe(200);
    expect((await postWebhook(receiver.url, body, {}, lax)).status).toBe(200);
    expect(receiver.received).toHaveLength(2);
    expect(receiver.connections()).toBe(1);
  });

  it("returns 500 with a Retry-After in seconds as milliseconds", async () => {
    const receiver = await startServer((_, res) => res.writeHead(500, { "Retry-After": "120" }).end("down"));
    expect(await postWebhook(receiver.url, body, {}, lax)).toMatchObject({ status: 500, error: null, retryAfterMs: 120_000 });
  });

  it("returns 410 with a Retry-After date measured against the given clock, and caps one past a day", async () => {
    const now = new Date("2026-03-01T12:00:00Z");
    const gone = await startServer((_, res) => res.writeHead(410, { "Retry-After": "Sun, 01 Mar 2026 12:05:00 GMT" }).end());
    expect(await postWebhook(gone.url, body, {}, { ...lax, now: () => now })).toMatchObject({ status: 410, retryAfterMs: 300_000 });
    const far = await startServer((_, res) => res.writeHead(503, { "Retry-After": "9999999" }).end());
    expect((await postWebhook(far.url, body, {}, lax)).retryAfterMs).toBe(24 * 3600_000);
    const junk = await startServer((_, res) => res.writeHead(429, { "Retry-After": "soon" }).end());
    expect(await postWebhook(junk.url, body, {}, lax)).toMatchObject({ status: 429, retryAfterMs: null });
  });

  it("returns a redirect as its status and never follows it", async () => {
    const target = await startServer();
    const redirecting = await startServer((_, res) => res.writeHead(302, { Location: `${target.url}/elsewhere` }).end());
    expect(await postWebhook(redirecting.url, body, {}, lax)).toMatchObject({ status: 302, error: null });
    expect(target.connections()).toBe(0);
    expect(target.received).toHaveLength(0);
  });
});

describe("postWebhook, bounded", () => {
  it("gives up on a receiver that never answers at the deadline, with error timeout", async () => {
    const silent = await startServer(() => {});
    const result = await postWebhook(silent.url, body, {}, { ...lax, timeoutMs: 300 });
    expect(result).toMatchObject({ status: null, error: "timeout", retryAfterMs: null });
    expect(result.durationMs).toBeGreaterThanOrEqual(290);
    expect(result.durationMs).toBeLessThan(2_000);
  });

  it("counts reading the body inside the deadline: a stalled body ends the attempt, the status stands", async () => {
    const stalling = await startServer((_, res) => {
      res.writeHead(200, { "Content-Length": "1000" });
      res.write("x".repeat(10));
    });
    const result = await postWebhook(stalling.url, body, {}, { ...lax, timeoutMs: 300 });
    expect(result).toMatchObject({ status: 200, error: null });
    expect(result.durationMs).toBeGreaterThanOrEqual(290);
    expect(result.durationMs).toBeLessThan(2_000);
  });

  it("cuts off an endless response body instead of reading it, and drops the connection", async () => {
    let written = 0;
    let closed!: () => void;
    const receiverClosed = new Promise<void>((resolve) => (closed = resolve));
    const flooding = await startServer((_, res) => {
      res.writeHead(200, { "Content-Type": "application/octet-stream" });
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      // Writes until the socket pushes back, then again on every drain: the receiver sends as fast as we read.
      const pump = () => {
        while (!res.destroyed) {
          written += chunk.length;
          if (!res.write(chunk)) break;
        }
      };
      res.on("drain", pump);
      res.on("close", () => closed());
      pump();
    });
    const result = await postWebhook(flooding.url, body, {}, { ...lax, timeoutMs: 10_000 });
    expect(result).toMatchObject({ status: 200, error: null });
    // Well before the deadline: the cut-off ended it, not the timer.
    expect(result.durationMs).toBeLessThan(3_000);
    await receiverClosed;
    // What the kernel's socket buffers took, not the gigabytes the receiver would have sent.
    expect(written).toBeLessThan(32 * 1024 * 1024);
  });

  it("ends the attempt with error aborted when the signal aborts, and does not start on an aborted one", async () => {
    const silent = await startServer(() => {});
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const result = await postWebhook(silent.url, body, {}, { ...lax, signal: controller.signal });
    expect(result).toMatchObject({ status: null, error: "aborted" });
    expect(result.durationMs).toBeLessThan(2_000);

    const untouched = await startServer();
    const early = await postWebhook(untouched.url, body, {}, { ...lax, signal: AbortSignal.abort() });
    expect(early).toMatchObject({ status: null, error: "aborted" });
    expect(untouched.connections()).toBe(0);
  });
});

describe("postWebhook, refusing non-public destinations", () => {
  it("opens no connection to a name that resolves to loopback, with error blocked address", async () => {
    const receiver = await startServer();
    local.asked.length = 0;
    const result = await postWebhook(`https://hooks.example.test:${receiver.port}/in`, body, {}, strict);
    expect(result).toMatchObject({ status: null, error: "blocked address" });
    // The name was resolved at connection time (not merely judged at registration), and refused.
    expect(local.asked).toEqual(["hooks.example.test"]);
    expect(receiver.connections()).toBe(0);
  });

  it("opens no connection when one of a name's addresses is private", async () => {
    const receiver = await startServer();
    const result = await postWebhook(`https://mixed.example.test:${receiver.port}/`, body, {}, strict);
    expect(result.error).toBe("blocked address");
    expect(receiver.connections()).toBe(0);
  });

  it("blocks IP-literal hosts up front, without asking the resolver or connecting", async () => {
    const receiver = await startServer();
    local.asked.length = 0;
    for (const url of [
      `https://127.0.0.1:${receiver.port}/`,
      `https://[::ffff:127.0.0.1]:${receiver.port}/`,
      `https://2130706433:${receiver.port}/`,
      `https://localhost:${receiver.port}/`,
    ]) {
      expect(await postWebhook(url, body, {}, strict), url).toMatchObject({ status: null, error: "blocked address" });
    }
    expect(local.asked).toEqual([]);
    expect(receiver.connections()).toBe(0);
  });

  it("refuses http and credentials under the strict policy even for a URL stored earlier", async () => {
    const receiver = await startServer();
    expect((await postWebhook(`http://hooks.example.test:${receiver.port}/`, body, {}, strict)).error).toBe("invalid url");
    expect((await postWebhook(`http://u:p@127.0.0.1:${receiver.port}/`, body, {}, lax)).error).toBe("invalid url");
    expect((await postWebhook("not a url", body, {}, lax)).error).toBe("invalid url");
    expect(receiver.connections()).toBe(0);
  });
});

describe("postWebhook, network failures", () => {
  it("returns connection refused for a closed port", async () => {
    const gone = await startServer();
    await new Promise((resolve) => gone.server.close(resolve));
    expect(await postWebhook(gone.url, body, {}, lax)).toMatchObject({ status: null, error: "connection refused" });
  });

  it("returns dns failure when the name does not resolve", async () => {
    expect(await postWebhook("https://nowhere.example.test/", body, {}, strict)).toMatchObject({ status: null, error: "dns failure" });
  });

  it("returns a tls error for https to a receiver that speaks plain http", async () => {
    const plain = await startServer();
    const result = await postWebhook(`https://127.0.0.1:${plain.port}/`, body, {}, lax);
    expect(result.status).toBeNull();
    expect(result.error).toMatch(/^tls error: [A-Z0-9_]+$/);
  });

  it("never repeats the query string or a header value in an error", async () => {
    const secret = "tok_SECRET123";
    const receiver = await startServer();
    const errors = [
      (await postWebhook(`https://hooks.example.test:${receiver.port}/?token=${secret}`, body, {}, strict)).error,
      (await postWebhook(`https://nowhere.example.test/?token=${secret}`, body, {}, strict)).error,
      (await postWebhook(`${receiver.url}/?token=${secret}`, body, { "webhook-signature": `${secret}\n` }, lax)).error,
    ];
    expect(errors).toEqual(["blocked address", "dns failure", "invalid request header"]);
    for (const error of errors) expect(error).not.toContain(secret);
    expect(receiver.connections()).toBe(0);
  });
});
