/**
 * Starts the real server as `pnpm start` runs it (the compiled bundle, built once by run.ts) against one of the
 * bench's databases, and waits for /readyz. The scale levels and the growth phase each get their own server, so
 * the growth phase's connections cache their plans on its own, empty database.
 */
import { join } from "node:path";
import { setCpuRole } from "./cpu.js";
import { freePort, startNode, waitForHttp200, type Started } from "./processes.js";

export interface BenchServerOptions {
  databaseUrl: string;
  redisUrl: string;
  masterKey: string;
  adminToken: string;
  workDir: string;
  /** The log file's name inside workDir. */
  logName: string;
  /** Node flags before the script (e.g. --cpu-prof); BENCH_SERVER_NODE_FLAGS are added to every server. */
  nodeFlags?: string[];
}

export interface BenchServer {
  server: Started;
  origin: string;
  /** `node …` as started, for the report. */
  command: string;
}

export async function startBenchServer(opts: BenchServerOptions): Promise<BenchServer> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const args = [
    ...(opts.nodeFlags ?? []),
    // Extra Node flags for the server, e.g. BENCH_SERVER_NODE_FLAGS="--trace-gc" (output in the server log).
    ...(process.env.BENCH_SERVER_NODE_FLAGS ?? "").split(" ").filter(Boolean),
    // What `pnpm start` runs: the compiled bundle, not TypeScript through tsx.
    "--enable-source-maps",
    "server/dist/main.js",
  ];
  const env = {
    ...process.env,
    NODE_ENV: "production",
    PORT: String(port),
    DATABASE_URL: opts.databaseUrl,
    REDIS_URL: opts.redisUrl,
    MASKLINE_MASTER_KEY: opts.masterKey,
    // A fixed bench key (the bench verifies nothing); production takes its own from the operator.
    MASKLINE_SIGNING_KEY: Buffer.alloc(32, 5).toString("base64"),
    MASKLINE_ADMIN_TOKEN: opts.adminToken,
    PUBLIC_BASE_URL: origin,
    LOG_LEVEL: "warn",
    // The events phase's receiver listens on 127.0.0.1.
    MASKLINE_WEBHOOK_ALLOW_PRIVATE: "true",
    // The limiter runs (its kv round trip is part of every create measured) but a million per second never trips:
    // the bench measures the service's capacity, not the default per-tenant limit of 500/s.
    MASKLINE_RATE_LIMIT_PER_SECOND: process.env.BENCH_RATE_LIMIT ?? "1000000",
  };
  const server = startNode(args, env, join(opts.workDir, opts.logName));
  setCpuRole(server.pid, "server");
  await waitForHttp200(`${origin}/readyz`, server);
  return { server, origin, command: `node ${args.join(" ")}` };
}
