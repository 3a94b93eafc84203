/**
 * The real Maskline service as a child process of the test: `node --import tsx server/src/main.ts`, the same
 * entry point `pnpm start` builds into server/dist/main.js, run from source so that no build step (and no
 * `tsup --clean` of server/dist by someone else's `pnpm start`) can race the test. `node` itself is the child, not
 * a wrapper, so a SIGKILL to `pid` kills the service and nothing survives it.
 *
 * The environment is built from scratch: a DATABASE_URL or REDIS_URL exported for the rest of the suite (CI's
 * shared 5432 / 6379) never leaks into a service the fault suite kills.
 */
import { REPO_ROOT, freePort, spawnOwned, waitFor, type Exit, type OwnedChild } from "./processes.js";

export interface ServiceProcess {
  baseUrl: string;
  port: number;
  pid: number;
  /** Sends `signal` (SIGKILL: a crash) and resolves when the process has exited. */
  kill(signal?: NodeJS.Signals): Promise<Exit>;
  /** Resolves once GET /readyz answers 200; throws when the process exits first or `timeoutMs` passes. */
  waitReady(timeoutMs?: number): Promise<void>;
  /** What the service wrote to stdout and stderr (the last 64 kB). */
  logs(): string;
  running(): boolean;
  /** Teardown: SIGTERM, SIGKILL after a grace period. Safe to call twice. */
  stop(): Promise<void>;
}

export interface ServiceOptions {
  /** The service's settings (DATABASE_URL, REDIS_URL, MASKLINE_MASTER_KEY, ...). PORT is chosen when absent. */
  env: Record<string, string>;
  /** Modules loaded before main.ts (`--import`, after tsx): a test's extra job kinds, say. Never in the shipped service. */
  imports?: string[];
}

const READY_TIMEOUT_MS = 60_000;

export async function startServiceProcess(options: ServiceOptions): Promise<ServiceProcess> {
  const port = options.env.PORT ? Number(options.env.PORT) : await freePort();
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...(process.env.TMPDIR ? { TMPDIR: process.env.TMPDIR } : {}),
    MASKLINE_SHUTDOWN_GRACE_MS: "2000",
    ...options.env,
    PORT: String(port),
  };
  const imports = (options.imports ?? []).flatMap((m) => ["--import", m]);
  const child: OwnedChild = spawnOwned(process.execPath, ["--import", "tsx", ...imports, "server/src/main.ts"], {
    cwd: REPO_ROOT,
    env,
    what: `Maskline service on ${port}`,
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    baseUrl,
    port,
    pid: child.pid,
    async kill(signal = "SIGKILL") {
      process.kill(child.pid, signal);
      return child.exited;
    },
    async waitReady(timeoutMs = READY_TIMEOUT_MS) {
      await waitFor(
        `the service on ${port} to answer /readyz 200`,
        async () => {
          if (!child.running()) throw new Error(`the service exited before it was ready:\n${child.output().slice(-3_000)}`);
          const res = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(1_000) });
          await res.arrayBuffer();
          return res.status === 200 ? true : undefined;
        },
        { timeoutMs, intervalMs: 100 },
      ).catch((err: Error) => {
        throw new Error(`${err.message}\nservice output:\n${child.output().slice(-3_000)}`);
      });
    },
    logs: () => child.output(),
    running: () => child.running(),
    async stop() {
      await child.stop("SIGTERM", 5_000);
    },
  };
}
