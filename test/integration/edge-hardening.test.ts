/**
 * Bad input and dead dependencies at the HTTP edge: each is a deliberate 4xx problem (or 503 `unavailable` for a
 * dependency), never a 500, and a stalled request does not hold its connection.
 */
import { randomUUID } from "node:crypto";
import type { Server } from "node:http";
import { connect, createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from "node:net";
import { brotliCompressSync, deflateSync, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, usingRealServices, type TestServer } from "../support/harness.js";
import { problemOf } from "../support/isolation.js";
import { createSession, people, tenantWithPool } from "../support/fixtures.js";
import { testDatabaseUrl } from "../support/env.js";
import { createApp } from "../../server/src/app.js";
import { loadConfig } from "../../server/src/config.js";
import { createDatabase, migrateLatest, type Db } from "../../server/src/db/database.js";
import { fromLibraryError, isDependencyUnavailable } from "../../server/src/http/errors.js";
import { operationsById } from "../../server/src/http/openapi.js";
import { createHttpServer, serveApp } from "../../server/src/http/server.js";

const REQUEST_TIMEOUT_MS = 1_000;
const PHONE = "+919888800001";

let server: TestServer;
let tenant: { tenantId: string; apiKey: string };
beforeAll(async () => {
  server = await startTestServer({ env: { MASKLINE_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS) } });
  tenant = await server.createTenant("edge");
});
afterAll(async () => server?.stop());

const admin = () => ({ authorization: `Bearer ${server.adminToken}` });

/** Headers that pass authentication for an operation, so what is tested is the body, not the credentials. */
function authFor(security: string): Record<string, string> {
  if (security === "adminToken") return admin();
  if (security === "apiKey") return { authorization: `Bearer ${tenant.apiKey}` };
  return {};
}

const jsonOperations = () =>
  [...operationsById.values()].filter((op) => op.bodyContentType === "application/json");
const webhookOperations = () =>
  [...operationsById.values()].filter((op) => op.bodyContentType === "application/x-www-form-urlencoded");
const concretePath = (routePath: string) => routePath.replace(/:(\w+)/g, (_m, name: string) => `${name}_edge1`);

describe("Content-Encoding", () => {
  const NOT_COMPRESSED = '{"name":"plain text, not compressed"}';

  it("answers a JSON body that is not validly gzip/deflate/br with 400 bad_request on every JSON operation", async () => {
    const ops = jsonOperations();
    expect(ops.length).toBeGreaterThanOrEqual(8);
    for (const op of ops) {
      for (const encoding of ["gzip", "deflate", "br"]) {
        const res = await server.request(concretePath(op.routePath), {
          method: op.method.toUpperCase(),
          headers: { ...authFor(op.security), "content-type": "application/json", "content-encoding": encoding },
          body: NOT_COMPRESSED,
        });
        expect(res.status, `${op.id} with ${encoding}`).toBe(400);
        expect((await problemOf(res)).code).toBe("bad_request");
      }
    }
  });

  it("answers a form body that is not validly compressed with 400 bad_request on every carrier webhook", async () => {
    const ops = webhookOperations();
    expect(ops.map((op) => op.id).sort()).toEqual([
      "vobiz.answer",
      "vobiz.dialStatus",
      "vobiz.hangup",
      "vobiz.outboundAnswer",
      "vobiz.outboundHangup",
      "vobiz.pin",
      "vobiz.recording",
    ]);
    for (const op of ops) {
      for (const encoding of ["gzip", "deflate", "br"]) {
        const res = await server.request(concretePath(op.routePath), {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded", "content-encoding": encoding },
          body: "CallUUID=abc&From=%2B919888800001",
        });
        expect(res.status, `${op.id} with ${encoding}`).toBe(400);
        expect((await problemOf(res)).code).toBe("bad_request");
      }
    }
  });

  it("answers a truncated gzip body with 400 bad_request", async () => {
    const res = await server.request("/v1/admin/tenants", {
      method: "POST",
      headers: { ...admin(), "content-type": "application/json", "content-encoding": "gzip" },
      body: gzipSync('{"name":"cut short"}').subarray(0, 12),
    });
    expect(res.status).toBe(400);
    expect((await problemOf(res)).code).toBe("bad_request");
  });

  it("refuses encodings it does not accept with 415 unsupported_media_type", async () => {
    for (const encoding of ["zstd", "compress", "gzip, br"]) {
      const res = await server.request("/v1/api-keys", {
        method: "POST",
        headers: { ...authFor("apiKey"), "content-type": "application/json", "content-encoding": encoding },
        body: "{}",
      });
      expect(res.status, encoding).toBe(415);
      expect((await problemOf(res)).code).toBe("unsupported_media_type");
    }
  });

  it("accepts a genuinely gzip, deflate or br compressed JSON body", async () => {
    const compressors = { gzip: gzipSync, deflate: deflateSync, br: brotliCompressSync };
    for (const [encoding, compress] of Object.entries(compressors)) {
      const res = await server.request("/v1/admin/tenants", {
        method: "POST",
        headers: { ...admin(), "content-type": "application/json", "content-encoding": encoding },
        body: compress(JSON.stringify({ name: `compressed ${encoding}` })),
      });
      expect(res.status, encoding).toBe(201);
      expect(((await res.json()) as { tenant: { name: string } }).tenant.name).toBe(`compressed ${encoding}`);
    }
  });

  it("reads a gzip-compressed carrier form: the caller in a session is bridged", async () => {
    const t = await tenantWithPool(server, { app: { signatureRequired: false } });
    const [a, b] = people(2);
    const created = await createSession(server, t.apiKey, { participants: [{ number: a }, { number: b }] });
    expect(created.status).toBe(201);
    const session = (await created.json()) as { participants: Array<{ proxyNumber: string }> };
    const form = new URLSearchParams({
      CallUUID: randomUUID(),
      From: a!,
      To: session.participants[0]!.proxyNumber,
      Direction: "inbound",
      CallStatus: "ringing",
    }).toString();
    const res = await fetch(t.app.answerUrl, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "content-encoding": "gzip" },
      body: gzipSync(form),
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("<Dial");
  });

  it("applies the body limit to the inflated size: a small gzip body that inflates past 64 kB is 413", async () => {
    const inflated = JSON.stringify({ name: "x".repeat(200_000) });
    const body = gzipSync(inflated);
    expect(body.length).toBeLessThan(2_000);
    const res = await server.request("/v1/admin/tenants", {
      method: "POST",
      headers: { ...admin(), "content-type": "application/json", "content-encoding": "gzip" },
      body,
    });
    expect(res.status).toBe(413);
    expect((await problemOf(res)).code).toBe("payload_too_large");
  });
});

describe("NUL and lone surrogates", () => {
  async function expectRefusedAt(res: Response, path: string, secret: string) {
    const text = await res.text();
    expect(res.status, text).toBe(422);
    expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    const problem = JSON.parse(text) as { code: string; errors: Array<{ path: string; message: string }> };
    expect(problem.code).toBe("validation_failed");
    expect(problem.errors.map((e) => e.path)).toContain(path);
    // The offending value (here it carries a phone number) is never echoed.
    expect(text).not.toContain(secret);
    expect(text).not.toMatch(/\\u0000|\\ud[89a-f][0-9a-f]{2}/i);
  }

  const bad = {
    nul: `${PHONE}\u0000tail`,
    high: `${PHONE}\ud800`,
    low: `\udc00${PHONE}`,
  };

  it("refuses them in top-level strings of any operation's body, naming the path", async () => {
    await expectRefusedAt(
      await server.request("/v1/admin/tenants", { method: "POST", headers: admin(), json: { name: bad.high } }),
      "/body/name",
      "9888800001",
    );
    await expectRefusedAt(
      await server.request("/v1/api-keys", { method: "POST", apiKey: tenant.apiKey, json: { name: bad.nul } }),
      "/body/name",
      "9888800001",
    );
  });

  it("refuses them in session metadata values and keys, labels and references", async () => {
    const t = await tenantWithPool(server);
    const [a, b] = people(2);
    const participants = [{ number: a }, { number: b }];
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ participants, metadata: { orderId: bad.nul } }, "/body/metadata/orderId"],
      [{ participants, metadata: { note: bad.low } }, "/body/metadata/note"],
      [{ participants, metadata: { [`key${bad.high}`]: "v" } }, "/body/metadata"],
      [{ participants: [{ number: a }, { number: b, label: bad.nul }] }, "/body/participants/1/label"],
      [{ participants, reference: bad.high }, "/body/reference"],
      [{ participants, pool: bad.nul }, "/body/pool"],
    ];
    for (const [body, path] of cases) {
      await expectRefusedAt(await createSession(server, t.apiKey, body), path, "9888800001");
    }
    const created = await createSession(server, t.apiKey, { participants });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    await expectRefusedAt(
      await server.request(`/v1/sessions/${id}`, { method: "PATCH", apiKey: t.apiKey, json: { metadata: { a: bad.low } } }),
      "/body/metadata/a",
      "9888800001",
    );
    // Refused means nothing was stored: the session's metadata is still empty.
    const fetched = (await (await server.request(`/v1/sessions/${id}`, { apiKey: t.apiKey })).json()) as { metadata: unknown };
    expect(fetched.metadata ?? {}).toEqual({});
  });

  it("refuses them in an app's spoken messages and name", async () => {
    const app = { name: "edge app", vobizAuthId: "MA_EDGE", vobizAuthToken: "token-edge" };
    await expectRefusedAt(
      await server.request("/v1/apps", { method: "POST", apiKey: tenant.apiKey, json: { ...app, messages: { notInService: bad.high } } }),
      "/body/messages/notInService",
      "9888800001",
    );
    await expectRefusedAt(
      await server.request("/v1/apps", { method: "POST", apiKey: tenant.apiKey, json: { ...app, name: bad.nul } }),
      "/body/name",
      "9888800001",
    );
  });

  it("refuses a NUL in query and path parameters", async () => {
    await expectRefusedAt(
      await server.request(`/v1/sessions?reference=${encodeURIComponent(bad.nul)}`, { apiKey: tenant.apiKey }),
      "/query/reference",
      "9888800001",
    );
    await expectRefusedAt(
      await server.request(`/v1/sessions/ses_${encodeURIComponent(bad.nul)}`, { apiKey: tenant.apiKey }),
      "/path/id",
      "9888800001",
    );
    await expectRefusedAt(
      await server.request(`/v1/pools/${encodeURIComponent(bad.nul)}`, { apiKey: tenant.apiKey }),
      "/path/pool",
      "9888800001",
    );
  });

  it("refuses them deep inside a body, and a deeply nested body is a 4xx, not a crash", async () => {
    const res = await server.request("/v1/admin/tenants", {
      method: "POST",
      headers: admin(),
      json: { name: "ok", extra: [{ deeper: [bad.low] }] },
    });
    await expectRefusedAt(res, "/body/extra/0/deeper/0", "9888800001");
    const nested = `${"[".repeat(20_000)}"\\u0000"${"]".repeat(20_000)}`;
    const deep = await server.request("/v1/admin/tenants", {
      method: "POST",
      headers: { ...admin(), "content-type": "application/json" },
      body: `{"name":${nested}}`,
    });
    expect(deep.status).toBe(422);
    expect((await problemOf(deep)).code).toBe("validation_failed");
  });
});

describe("dependency unavailable", () => {
  it("classifies connection failures of pg, knex and the socket as unavailable, and nothing else", () => {
    const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });
    const unavailable = [
      withCode("connect ECONNREFUSED 127.0.0.1:1", "ECONNREFUSED"),
      withCode("read ECONNRESET", "ECONNRESET"),
      Object.assign(new AggregateError([withCode("connect ECONNREFUSED ::1:5432", "ECONNREFUSED")], ""), {}),
      new Error("Connection terminated unexpectedly"),
      new Error("select * from api_keys where secret_hash = $1 - Connection terminated due to connection timeout"),
      new Error("Query read timeout"),
      new Error("timeout expired"),
      Object.assign(new Error("Knex: Timeout acquiring a connection. The pool is probably full."), { name: "KnexTimeoutError" }),
      withCode("terminating connection due to administrator command", "57P01"),
      withCode("the database system is starting up", "57P03"),
      withCode("connection failure", "08006"),
      withCode("sorry, too many clients already", "53300"),
      new Error("wrapped", { cause: withCode("connect ECONNREFUSED", "ECONNREFUSED") }),
    ];
    for (const err of unavailable) {
      expect(isDependencyUnavailable(err), err.message).toBe(true);
      const mapped = fromLibraryError(err);
      expect(mapped?.code, err.message).toBe("unavailable");
      expect(mapped?.options.headers?.["Retry-After"]).toMatch(/^\d+$/);
    }
    const ours = [
      new Error("boom"),
      new TypeError("undefined is not a function"),
      withCode("duplicate key value violates unique constraint", "23505"),
      withCode("syntax error", "42601"),
      new Error("the idempotency wait: timeout expired"),
      null,
      "a string",
    ];
    for (const err of ours) expect(isDependencyUnavailable(err)).toBe(false);
  });

  /** The server's own app, with its database swapped for `db`: every route then meets a database in that state. */
  async function appOver(db: Db): Promise<{ baseUrl: string; close(): Promise<void> }> {
    const deps = { ...server.deps, db };
    const http: Server = serveApp(createHttpServer(), createApp(deps), deps.config, deps.logger);
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    const { port } = http.address() as AddressInfo;
    return {
      baseUrl: `http://127.0.0.1:${port}`,
      async close() {
        http.closeAllConnections();
        await new Promise<void>((resolve) => http.close(() => resolve()));
        await db.destroy();
      },
    };
  }

  async function tcpServer(onConnection: (socket: Socket) => void): Promise<{ port: number; server: TcpServer; sockets: Set<Socket> }> {
    const sockets = new Set<Socket>();
    const tcp = createTcpServer((socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => undefined);
      onConnection(socket);
    });
    await new Promise<void>((resolve) => tcp.listen(0, "127.0.0.1", resolve));
    return { port: (tcp.address() as AddressInfo).port, server: tcp, sockets };
  }

  const closeTcp = async (tcp: { server: TcpServer; sockets: Set<Socket> }) => {
    for (const s of tcp.sockets) s.destroy();
    await new Promise<void>((resolve) => tcp.server.close(() => resolve()));
  };

  async function closedPort(): Promise<number> {
    const tcp = await tcpServer(() => undefined);
    await closeTcp(tcp);
    return tcp.port;
  }

  async function expectUnavailable(res: Response, what: string) {
    expect(res.status, what).toBe(503);
    expect(res.headers.get("retry-after"), what).toMatch(/^\d+$/);
    const problem = await problemOf(res);
    expect(problem.code).toBe("unavailable");
    expect(problem.requestId).toBe(res.headers.get("x-request-id"));
  }

  /** Tenant routes (where the API-key lookup itself is what fails) and operator routes. */
  async function expectEveryRouteUnavailable(baseUrl: string) {
    const tenantHeaders = { authorization: `Bearer ${tenant.apiKey}`, "content-type": "application/json" };
    const probes: Array<[string, string, Record<string, string>, unknown?]> = [
      ["GET", "/v1/api-keys", tenantHeaders],
      ["GET", "/v1/sessions", tenantHeaders],
      ["POST", "/v1/sessions", tenantHeaders, { participants: [{ number: PHONE }, { number: "+919888800002" }] }],
      ["GET", "/v1/pools", tenantHeaders],
      ["GET", "/v1/calls", tenantHeaders],
      ["PATCH", "/v1/settings", tenantHeaders, { retentionDays: 30 }],
      ["GET", "/v1/admin/tenants", admin()],
      ["POST", "/v1/admin/tenants", { ...admin(), "content-type": "application/json" }, { name: "never stored" }],
    ];
    for (const [method, path, headers, body] of probes) {
      const res = await fetch(baseUrl + path, { method, headers, ...(body ? { body: JSON.stringify(body) } : {}) });
      await expectUnavailable(res, `${method} ${path}`);
    }
  }

  it("answers 503 unavailable with Retry-After on tenant and operator routes when Postgres refuses connections", async () => {
    const app = await appOver(await createDatabase({ databaseUrl: `postgres://postgres@127.0.0.1:${await closedPort()}/none`, dataDir: ".", poolMax: 2 }));
    try {
      await expectEveryRouteUnavailable(app.baseUrl);
    } finally {
      await app.close();
    }
  });

  it("answers 503 when Postgres drops every connection as it opens", async () => {
    const tcp = await tcpServer((socket) => socket.destroy());
    const app = await appOver(await createDatabase({ databaseUrl: `postgres://postgres@127.0.0.1:${tcp.port}/none`, dataDir: ".", poolMax: 2 }));
    try {
      await expectEveryRouteUnavailable(app.baseUrl);
    } finally {
      await app.close();
      await closeTcp(tcp);
    }
  });

  it("bounds the wait for a connection: Postgres that accepts and never answers is a 503 within the connect timeout", async () => {
    const tcp = await tcpServer(() => undefined);
    const db = await createDatabase({ databaseUrl: `postgres://postgres@127.0.0.1:${tcp.port}/none`, dataDir: ".", poolMax: 2, connectTimeoutMs: 300 });
    const app = await appOver(db);
    try {
      const started = Date.now();
      await expectUnavailable(await fetch(`${app.baseUrl}/v1/api-keys`, { headers: { authorization: `Bearer ${tenant.apiKey}` } }), "GET /v1/api-keys");
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      await app.close();
      await closeTcp(tcp);
    }
  });

  it("bounds the wait for a query: one Postgres never answers is abandoned after the query timeout and is a 503", async () => {
    // Just enough of the Postgres protocol to accept a connection (AuthenticationOk, ReadyForQuery), then silence.
    const ready = Buffer.concat([
      Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 0]),
      Buffer.from([0x5a, 0, 0, 0, 5, 0x49]),
    ]);
    const tcp = await tcpServer((socket) => socket.once("data", () => socket.write(ready)));
    const db = await createDatabase({ databaseUrl: `postgres://postgres@127.0.0.1:${tcp.port}/none`, dataDir: ".", poolMax: 2, queryTimeoutMs: 300 });
    const app = await appOver(db);
    try {
      const started = Date.now();
      await expectUnavailable(await fetch(`${app.baseUrl}/v1/admin/tenants`, { headers: admin() }), "GET /v1/admin/tenants");
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      await app.close();
      await closeTcp(tcp);
    }
  });

  it.runIf(usingRealServices.postgres)("bounds every query by the query timeout, except the migrations'", async () => {
    const db = await createDatabase({ databaseUrl: testDatabaseUrl, dataDir: ".", poolMax: 2, queryTimeoutMs: 100 });
    const locker = await createDatabase({ databaseUrl: testDatabaseUrl, dataDir: ".", poolMax: 1 });
    try {
      // Whichever fires first: the server's statement_timeout (57014) or the client's query_timeout.
      await expect(db.raw("select pg_sleep(0.5)")).rejects.toThrow(/statement timeout|Query read timeout/);
      // The migrator must lock knex_migrations_lock; held elsewhere for 500 ms, its query waits that long, well past
      // the 100 ms every other query of `db` gets.
      const trx = await locker.transaction();
      await trx.raw("lock table knex_migrations_lock in access exclusive mode");
      const released = new Promise<void>((resolve) => setTimeout(() => void trx.commit().then(() => resolve()), 500));
      const started = Date.now();
      await migrateLatest(db);
      expect(Date.now() - started).toBeGreaterThanOrEqual(400);
      await released;
    } finally {
      await db.destroy();
      await locker.destroy();
    }
  });

  it.runIf(usingRealServices.postgres)("answers 503 when a real Postgres that was serving goes away", async () => {
    // A TCP relay in front of the shared Postgres: cutting it is Postgres stopping, for this app only.
    const target = new URL(testDatabaseUrl!);
    const relay = await tcpServer((client) => {
      const upstream = connect(Number(target.port || 5432), target.hostname);
      upstream.on("error", () => client.destroy());
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
      client.pipe(upstream).pipe(client);
    });
    const relayed = new URL(testDatabaseUrl!);
    relayed.hostname = "127.0.0.1";
    relayed.port = String(relay.port);
    const app = await appOver(await createDatabase({ databaseUrl: relayed.toString(), dataDir: ".", poolMax: 2 }));
    try {
      const before = await fetch(`${app.baseUrl}/v1/api-keys`, { headers: { authorization: `Bearer ${tenant.apiKey}` } });
      expect(before.status).toBe(200);
      await closeTcp(relay); // established connections are cut and new ones refused
      await expectEveryRouteUnavailable(app.baseUrl);
    } finally {
      await app.close();
    }
  });
});

interface RawExchange {
  text: string;
  closed: boolean;
  elapsedMs: number;
}

/** Writes `chunks` on a raw socket and collects what comes back until the server closes it or `waitMs` passes. */
function rawExchange(chunks: Array<string | Buffer>, waitMs: number): Promise<RawExchange> {
  const { port } = new URL(server.baseUrl);
  return new Promise((resolve) => {
    const started = Date.now();
    const received: Buffer[] = [];
    const socket = connect(Number(port), "127.0.0.1");
    let settled = false;
    const finish = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ text: Buffer.concat(received).toString("utf8"), closed, elapsedMs: Date.now() - started });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    socket.on("data", (d: Buffer) => received.push(d));
    socket.on("error", () => finish(true));
    socket.on("close", () => finish(true));
    socket.on("connect", () => {
      for (const chunk of chunks) socket.write(chunk);
    });
  });
}

function parseRawResponse(text: string) {
  const split = text.indexOf("\r\n\r\n");
  const head = text.slice(0, split);
  const [statusLine, ...headerLines] = head.split("\r\n");
  const headers = Object.fromEntries(
    headerLines.map((line) => [line.slice(0, line.indexOf(":")).toLowerCase(), line.slice(line.indexOf(":") + 1).trim()]),
  );
  return { status: Number(statusLine!.split(" ")[1]), headers, body: JSON.parse(text.slice(split + 4)) as Record<string, unknown> };
}

function expectRawProblem(exchange: RawExchange, status: number, code: string) {
  expect(exchange.closed, "the server closes the connection").toBe(true);
  const res = parseRawResponse(exchange.text);
  expect(res.status).toBe(status);
  expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ status, code, type: `https://maskline.dev/problems/${code}` });
  expect(res.body.requestId).toBe(res.headers["x-request-id"]);
  expect(String(res.body.requestId)).toMatch(/^req_[0-9a-f-]{36}$/);
}

describe("stalled and malformed requests", () => {
  it("cuts off a request whose body stops arriving with 408 request_timeout, within the configured timeout", async () => {
    const exchange = await rawExchange(
      [
        "POST /v1/admin/tenants HTTP/1.1\r\nHost: edge\r\n" +
          `Authorization: Bearer ${server.adminToken}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n`,
        '{"name":',
      ],
      REQUEST_TIMEOUT_MS + 5_000,
    );
    expectRawProblem(exchange, 408, "request_timeout");
    expect(exchange.elapsedMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 50);
    expect(exchange.elapsedMs).toBeLessThan(REQUEST_TIMEOUT_MS + 1_500);
  });

  it("cuts off a request whose headers stop arriving with 408 request_timeout", async () => {
    const exchange = await rawExchange(["GET /healthz HTTP/1.1\r\nHost: edge\r\nX-Partial: "], REQUEST_TIMEOUT_MS + 5_000);
    expectRawProblem(exchange, 408, "request_timeout");
    expect(exchange.elapsedMs).toBeLessThan(REQUEST_TIMEOUT_MS + 1_500);
  });

  it("answers headers over the size limit with 431 headers_too_large as problem+json", async () => {
    const exchange = await rawExchange([`GET /healthz HTTP/1.1\r\nHost: edge\r\nX-Huge: ${"a".repeat(20_000)}\r\n\r\n`], 5_000);
    expectRawProblem(exchange, 431, "headers_too_large");
  });

  it("answers a malformed request line with 400 bad_request as problem+json", async () => {
    expectRawProblem(await rawExchange(["THIS IS NOT HTTP\r\n\r\n"], 5_000), 400, "bad_request");
    expectRawProblem(await rawExchange(["GET /healthz HTTP/1.1\r\nHost: edge\r\nBad Header: x\r\n\r\n"], 5_000), 400, "bad_request");
  });

  it("leaves a well-behaved keep-alive client alone: two requests on one socket both answer 200", async () => {
    const exchange = await rawExchange(
      ["GET /healthz HTTP/1.1\r\nHost: edge\r\n\r\n", "GET /healthz HTTP/1.1\r\nHost: edge\r\nConnection: close\r\n\r\n"],
      5_000,
    );
    expect(exchange.text.match(/HTTP\/1\.1 200 /g)).toHaveLength(2);
  });

  it("bounds the request timeout in configuration: at most 29 s (cut off within 30 s), 20 s by default", () => {
    const env = { PUBLIC_BASE_URL: "http://127.0.0.1:1" };
    expect(loadConfig(env).requestTimeoutMs).toBe(20_000);
    expect(() => loadConfig({ ...env, MASKLINE_REQUEST_TIMEOUT_MS: "60000" })).toThrow(/MASKLINE_REQUEST_TIMEOUT_MS/);
  });
});
