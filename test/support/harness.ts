import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { Writable } from "node:stream";
import { loadConfig } from "../../server/src/config.js";
import { buildRuntime, type Runtime } from "../../server/src/bootstrap.js";
import { createApp } from "../../server/src/app.js";
import { createHttpServer, serveApp } from "../../server/src/http/server.js";
import { createLogger } from "../../server/src/logging/logger.js";
import type { Clock, Deps } from "../../server/src/deps.js";
import type { VobizRestTimeouts } from "../../server/src/carrier/vobiz-rest.js";
import { TEST_ADMIN_TOKEN, TEST_MASTER_KEY, TEST_SIGNING_KEY, testDatabaseUrl, testRedisUrl } from "./env.js";

export interface TestServer {
  baseUrl: string;
  deps: Deps;
  adminToken: string;
  /** Every log line the server wrote, for tests that prove what never appears in logs. */
  logs: string[];
  /** Creates a fresh tenant (tests never truncate; each makes its own) and returns its first key. */
  createTenant(name?: string): Promise<{ tenantId: string; apiKey: string }>;
  request(path: string, init?: RequestInit & { apiKey?: string; json?: unknown }): Promise<Response>;
  stop(): Promise<void>;
  stopped: boolean;
}

export interface TestServerOptions {
  env?: Record<string, string>;
  /** Share the embedded data folder of another server (embedded mode only runs one instance per folder). */
  dataDir?: string;
  /** The server's clock (test/support/clock.ts): expiry tests move time instead of sleeping. */
  clock?: Clock;
  /** The carrier client's timeouts (a test of a carrier that never answers waits a fraction of a second). */
  carrierTimeouts?: VobizRestTimeouts;
}

/** Starts createApp on port 0 against real Postgres/Redis when configured, the embedded default otherwise. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "maskline-test-"));
  const ownsDataDir = !options.dataDir;
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(chunk.toString("utf8"));
      cb();
    },
  });
  const env: Record<string, string> = {
    PORT: "0",
    MASKLINE_DATA_DIR: dataDir,
    MASKLINE_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    MASKLINE_MASTER_KEY: TEST_MASTER_KEY,
    MASKLINE_SIGNING_KEY: TEST_SIGNING_KEY,
    LOG_LEVEL: "info",
    // Every test server signs in from 127.0.0.1, and with Redis the wrong attempts of all of them (and of both CI
    // suites, which share the 15-minute window) would add up on one counter. The tests of the limit set their own.
    MASKLINE_CONSOLE_SIGN_IN_ATTEMPTS: "1000",
    ...(testDatabaseUrl ? { DATABASE_URL: testDatabaseUrl } : {}),
    ...(testRedisUrl ? { REDIS_URL: testRedisUrl } : {}),
    ...options.env,
  };
  // Bind first so the webhook URLs the app hands out (built from PUBLIC_BASE_URL) point at this very socket.
  const server: Server = createHttpServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  env.PUBLIC_BASE_URL ??= baseUrl;
  const config = loadConfig(env);
  const logger = createLogger({ level: config.logLevel, destination: sink });
  let runtime: Runtime;
  try {
    runtime = await buildRuntime(config, {
      logger,
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.carrierTimeouts ? { carrierTimeouts: options.carrierTimeouts } : {}),
    });
  } catch (err) {
    server.close();
    throw err;
  }
  serveApp(server, createApp(runtime.deps), runtime.deps.config, logger);

  const request: TestServer["request"] = (path, init = {}) => {
    const headers = new Headers(init.headers);
    if (init.apiKey) headers.set("authorization", `Bearer ${init.apiKey}`);
    let body = init.body;
    if (init.json !== undefined) {
      headers.set("content-type", "application/json");
      body = JSON.stringify(init.json);
    }
    return fetch(baseUrl + path, { ...init, headers, body });
  };

  const harness: TestServer = {
    baseUrl,
    deps: runtime.deps,
    adminToken: runtime.deps.config.adminToken!,
    logs,
    stopped: false,
    request,
    async createTenant(name = "Test tenant") {
      const res = await request("/v1/admin/tenants", {
        method: "POST",
        headers: { authorization: `Bearer ${runtime.deps.config.adminToken}` },
        json: { name },
      });
      if (res.status !== 201) throw new Error(`creating a tenant failed: ${res.status} ${await res.text()}`);
      const body = (await res.json()) as { tenant: { id: string }; apiKey: { secret: string } };
      return { tenantId: body.tenant.id, apiKey: body.apiKey.secret };
    },
    async stop() {
      if (harness.stopped) return;
      harness.stopped = true;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await runtime.close();
      if (ownsDataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return harness;
}

export const usingRealServices = { postgres: Boolean(testDatabaseUrl), redis: Boolean(testRedisUrl) };
