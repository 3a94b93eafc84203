/**
 * A PostgreSQL cluster the test owns: `initdb` into a temporary folder, `pg_ctl` to stop and start it, listening
 * only on a free port of 127.0.0.1 (and a socket in its own folder), trust auth, autovacuum off like CI. Never the
 * shared 5432. As root it runs as the `postgres` OS user (initdb refuses root), with the folder chowned to it.
 *
 * `fsync=off`: these tests kill processes, not the machine. A committed transaction's WAL has been written to the
 * kernel before COMMIT returns (synchronous_commit stays on), so it survives a SIGKILL of every Postgres process;
 * only an OS crash would need the fsync.
 */
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { requireOwnedTools, type AvailableTools } from "./tools.js";
import { childPids, cleanUpIfOwnerDies, freePort, killOnExit, processAlive, runCommand, waitFor } from "./processes.js";

export interface OwnedPostgres {
  /** postgres://postgres@127.0.0.1:PORT/maskline */
  url: string;
  port: number;
  /** A clean shutdown (`pg_ctl stop -m fast`): clients are disconnected, new connections are refused. */
  stop(): Promise<void>;
  /** Starts the stopped (or killed) cluster again on the same port and data; crash recovery runs after kill(). */
  start(): Promise<void>;
  /** SIGKILL to the postmaster and every backend: a crash, with no shutdown checkpoint. */
  kill(): Promise<void>;
  /** One query over a fresh connection (bounded by connect and statement timeouts). */
  query<R extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  /** Final teardown: stops the cluster (immediate) and removes its folder. Safe to call twice. */
  destroy(): Promise<void>;
}

const DATABASE = "maskline";
const PG_CTL_TIMEOUT_S = 30;
const COMMAND_TIMEOUT_MS = (PG_CTL_TIMEOUT_S + 10) * 1000;

function asClusterOwner(tools: AvailableTools, bin: string, args: string[], cwd: string) {
  const path = join(tools.pgBin, bin);
  // runuser keeps the environment; cwd is the cluster folder because the postgres user may not read the repo's.
  if (tools.postgresUser) return runCommand("runuser", ["-u", tools.postgresUser, "--", path, ...args], { cwd, timeoutMs: COMMAND_TIMEOUT_MS });
  return runCommand(path, args, { cwd, timeoutMs: COMMAND_TIMEOUT_MS });
}

function ownerIds(user: string): { uid: number; gid: number } {
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${user}:`));
  if (!line) throw new Error(`no OS user ${user}`);
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}

export async function startOwnedPostgres(): Promise<OwnedPostgres> {
  const tools = await requireOwnedTools();
  const dir = mkdtempSync(join(tmpdir(), "maskline-pg-"));
  const dataDir = join(dir, "data");
  const logFile = join(dir, "postgres.log");
  const port = await freePort();
  if (tools.postgresUser) {
    const { uid, gid } = ownerIds(tools.postgresUser);
    chownSync(dir, uid, gid);
  }
  chmodSync(dir, 0o700);

  const serverOptions = [
    "-c listen_addresses=127.0.0.1",
    `-p ${port}`,
    `-k ${dir}`,
    "-c autovacuum=off",
    "-c fsync=off",
    "-c shared_buffers=32MB",
    "-c max_connections=60",
  ].join(" ");
  const pgCtl = (...args: string[]) => asClusterOwner(tools, "pg_ctl", ["-D", dataDir, ...args], dir);
  const postmasterPid = (): number | undefined => {
    try {
      return Number(readFileSync(join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
    } catch {
      return undefined;
    }
  };
  const logTail = () => {
    try {
      return readFileSync(logFile, "utf8").slice(-3_000);
    } catch {
      return "(no log)";
    }
  };

  const clientConfig = (database: string): pg.ClientConfig => ({
    host: "127.0.0.1",
    port,
    user: "postgres",
    database,
    connectionTimeoutMillis: 5_000,
    statement_timeout: 15_000,
  });
  async function query<R extends pg.QueryResultRow>(sql: string, params: unknown[] = [], database = DATABASE): Promise<R[]> {
    const client = new pg.Client(clientConfig(database));
    client.on("error", () => undefined); // a server going away mid-query rejects the query; nothing else to do
    try {
      await client.connect();
      return (await client.query<R>(sql, params)).rows;
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  async function start() {
    try {
      await pgCtl("-l", logFile, "-o", serverOptions, "-w", "-t", String(PG_CTL_TIMEOUT_S), "start");
    } catch (err) {
      throw new Error(`${(err as Error).message}\npostgres.log:\n${logTail()}`);
    }
    await waitFor("owned Postgres accepting queries", async () => ((await query("select 1", [], "postgres")) ? true : undefined), {
      timeoutMs: 15_000,
    });
  }

  // Last resorts if the test process dies without destroy(): the cluster is a daemon, not our child. On exit, an
  // immediate shutdown; if the test process is killed outright, the watchdog does the same and removes the folder.
  const killOnExitUnregister = killOnExit(() => {
    const pid = postmasterPid();
    if (pid && processAlive(pid)) process.kill(pid, "SIGQUIT");
  });
  const cancelWatchdog = cleanUpIfOwnerDies(
    `pid=$(head -n 1 '${dataDir}/postmaster.pid' 2>/dev/null); [ -n "$pid" ] && kill -QUIT "$pid" 2>/dev/null; sleep 3; rm -rf '${dir}'`,
  );
  const unregister = () => {
    killOnExitUnregister();
    cancelWatchdog();
  };

  try {
    await asClusterOwner(tools, "initdb", ["-D", dataDir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"], dir);
    await start();
    await query(`create database ${DATABASE}`, [], "postgres");
  } catch (err) {
    await pgCtl("-m", "immediate", "-w", "stop").catch(() => undefined);
    unregister();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  let destroyed = false;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/${DATABASE}`,
    port,
    async stop() {
      await pgCtl("-m", "fast", "-w", "-t", String(PG_CTL_TIMEOUT_S), "stop");
    },
    start,
    async kill() {
      const pid = postmasterPid();
      if (!pid || !processAlive(pid)) throw new Error("owned Postgres: kill() while it is not running");
      const backends = childPids(pid);
      process.kill(pid, "SIGKILL");
      for (const child of backends) {
        try {
          process.kill(child, "SIGKILL");
        } catch {
          // already exited
        }
      }
      await waitFor(
        "every process of the killed Postgres to be gone",
        async () => (![pid, ...backends].some(processAlive) ? true : undefined),
        { timeoutMs: 10_000, intervalMs: 50 },
      );
      // A dead postmaster's pid can linger a while as a zombie nobody has reaped yet, and the next postmaster
      // would take it for a live one (kill(pid, 0) succeeds) and refuse to start. Its processes are gone (checked
      // above), so both lock files are stale.
      for (const lock of [join(dataDir, "postmaster.pid"), join(dir, `.s.PGSQL.${port}.lock`)]) {
        if (existsSync(lock)) rmSync(lock);
      }
    },
    query: (sql, params) => query(sql, params),
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      try {
        const pid = postmasterPid();
        if (pid && processAlive(pid)) await pgCtl("-m", "immediate", "-w", "-t", String(PG_CTL_TIMEOUT_S), "stop");
      } finally {
        unregister();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
