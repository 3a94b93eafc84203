import { once } from "node:events";
import { rmSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import { join, resolve } from "node:path";
import { ConfigError, loadConfig } from "./config.js";
import { buildRuntime } from "./bootstrap.js";
import { createApp } from "./app.js";
import { createHttpServer, serveApp } from "./http/server.js";
import { startJobRunner } from "./jobs/index.js";

/** Beyond the HTTP grace and the job runner's stop bound: time for the pools and Redis to close. */
const SHUTDOWN_MARGIN_MS = 5_000;

/**
 * Embedded mode: where this instance listens, written beside its secrets (`server.json`), so local tools (`pnpm demo`,
 * the CLI) find it on any port without being told. Returns the function that removes it on a clean stop.
 */
function recordLocalAddress(dataDir: string, url: string): () => void {
  const path = join(resolve(dataDir), "server.json");
  writeFileSync(path, JSON.stringify({ url, pid: process.pid }) + "\n");
  return () => rmSync(path, { force: true });
}

function fail(message: string): never {
  process.stderr.write(`maskline: ${message}\n`);
  process.exit(1);
}

async function main() {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    fail(err instanceof ConfigError ? err.message : String(err));
  }
  const runtime = await buildRuntime(config).catch((err: unknown) =>
    fail(`cannot start: ${err instanceof Error ? err.message : String(err)}`),
  );
  const { deps } = runtime;
  const app = createApp(deps);
  // Expiry, the retention purge and the outbox run as jobs in Postgres: any replica may run any of them.
  const jobs = await startJobRunner(deps).catch((err: unknown) =>
    fail(`cannot start the job runner: ${err instanceof Error ? err.message : String(err)}`),
  );
  const server: Server = serveApp(createHttpServer(), app, deps.config, deps.logger);
  server.listen(config.port);
  await once(server, "listening");
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : config.port;

  const mode = deps.config.databaseUrl ? "postgres" : `embedded (${deps.config.dataDir})`;
  const url = `http://localhost:${port}`;
  const forgetAddress = deps.config.databaseUrl ? () => undefined : recordLocalAddress(deps.config.dataDir, url);
  deps.logger.info({ port, mode, redis: Boolean(deps.config.redisUrl) }, "maskline listening");
  process.stdout.write(`\nMaskline is running at ${url} (database: ${mode})\n`);
  process.stdout.write(`  public base URL for webhooks: ${deps.config.publicBaseUrl}\n`);
  process.stdout.write(`  API reference: ${url}/docs (the OpenAPI document: ${url}/openapi.json)\n`);
  process.stdout.write(`  probes: ${url}/healthz (up), ${url}/readyz (database reachable)\n`);
  process.stdout.write(`  web console: ${url}/console (sign in with an API key or the operator token)\n`);
  if (runtime.generatedSecrets) {
    // Printed once, on the run that generated it; it is kept (mode 0600) in the data folder.
    process.stdout.write(
      `  operator token (shown once, saved in ${runtime.generatedSecrets.path}):\n    ${runtime.generatedSecrets.adminToken}\n` +
        `  create a tenant:\n    curl -s -X POST http://localhost:${port}/v1/admin/tenants \\\n` +
        `      -H "Authorization: Bearer ${runtime.generatedSecrets.adminToken}" -H "Content-Type: application/json" \\\n` +
        `      -d '{"name":"Acme"}'\n`,
    );
  }
  process.stdout.write("\n");

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    deps.logger.info({ signal }, "shutting down: no new connections, finishing in-flight requests");
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const grace = setTimeout(() => server.closeAllConnections(), deps.config.shutdownGraceMs);
    grace.unref();
    // The steps below each have their bound; this is for one that overruns anyway (a pool that never drains, a hung
    // close): whoever waits for the exit sees a failed stop, not a process that stays. Not unref'd: it must fire.
    const deadlineMs = deps.config.shutdownGraceMs + jobs.stopBoundMs + SHUTDOWN_MARGIN_MS;
    setTimeout(() => {
      deps.logger.error({ deadlineMs }, "shutdown did not finish in time; exiting");
      process.exit(1);
    }, deadlineMs);
    // Handlers still running at the end of their grace are handed back (their rows run again elsewhere).
    await Promise.all([closed, jobs.stop()]);
    await runtime.close();
    forgetAddress();
    deps.logger.info("stopped");
    process.exit(0);
  };
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
  process.once("SIGINT", () => void shutdown("SIGINT"));
}

void main();
