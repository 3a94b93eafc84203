/**
 * The plumbing every owned process shares: free ports, bounded waits, commands with a deadline, child processes
 * whose output is kept for failure messages, and a last-resort kill when the test process exits.
 *
 * afterAll hooks stop what a file started; the exit hook is for the run that never gets there (a crashed hook,
 * an interrupted worker), and a per-process watchdog for a test process killed outright (SIGKILL: no hook runs),
 * so that no redis-server, postgres or Maskline outlives the test process that owns it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

export const REPO_ROOT = new URL("../../../", import.meta.url).pathname.replace(/\/$/, "");

const lastResortKills = new Map<symbol, () => void>();
let exitHookInstalled = false;

/** Registers a synchronous kill to run if the test process exits with the thing still running; returns an unregister. */
export function killOnExit(kill: () => void): () => void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once("exit", () => {
      for (const killNow of lastResortKills.values()) {
        try {
          killNow();
        } catch {
          // already gone
        }
      }
    });
  }
  const id = Symbol("owned process");
  lastResortKills.set(id, kill);
  return () => lastResortKills.delete(id);
}

/**
 * For a test process that dies without running any hook (SIGKILL, an OOM kill): a detached shell that polls this
 * process once a second and, once it is gone, runs `cleanup` (kill the owned process, remove its folder). The
 * returned function cancels it at normal teardown.
 */
export function cleanUpIfOwnerDies(cleanup: string): () => void {
  const script = 'while kill -0 "$1" 2>/dev/null; do sleep 1; done; eval "$2"';
  const watchdog = spawn("sh", ["-c", script, "sh", String(process.pid), cleanup], { detached: true, stdio: "ignore" });
  watchdog.unref();
  return () => {
    if (watchdog.exitCode === null && watchdog.pid !== undefined) {
      try {
        process.kill(watchdog.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  };
}

/** A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Polls `probe` until it returns something other than undefined, or throws once `timeoutMs` has passed. Every
 * wait in the fault suite goes through here, so a service that never comes back is a failure, not a hung test.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  opts: { timeoutMs: number; intervalMs?: number },
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? `; last error: ${lastError.message}` : "";
      throw new Error(`${what}: not within ${opts.timeoutMs} ms${why}`);
    }
    await sleep(opts.intervalMs ?? 100);
  }
}

/** Resolves with `work`, or rejects naming `what` once `ms` has passed. */
export async function within<T>(ms: number, what: string, work: PromiseLike<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([Promise.resolve(work), expired]);
  } finally {
    clearTimeout(timer);
  }
}

export interface CommandOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs: number;
}

/** Runs a command to completion; rejects with its output on a non-zero exit or when it outlives `timeoutMs`. */
export function runCommand(cmd: string, args: string[], opts: CommandOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd ?? REPO_ROOT, env: opts.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${cmd} ${args.join(" ")}: still running after ${opts.timeoutMs} ms (killed):\n${output}`));
    }, opts.timeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`${cmd} ${args.join(" ")} exited with ${signal ?? `code ${code}`}:\n${output}`));
    });
  });
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A long-running child of the test process, its output kept (the last lines) for failure messages. */
export interface OwnedChild {
  readonly pid: number;
  readonly exited: Promise<Exit>;
  running(): boolean;
  output(): string;
  /** Sends `signal` and waits for the exit; SIGKILL after `graceMs` if the signal did not end it. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<Exit>;
}

const KEPT_OUTPUT_CHARS = 64_000;

export function spawnOwned(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; what: string }): OwnedChild {
  const child: ChildProcess = spawn(cmd, args, {
    cwd: opts.cwd ?? REPO_ROOT,
    env: opts.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (child.pid === undefined) throw new Error(`${opts.what}: could not start ${cmd}`);
  const pid = child.pid;
  let output = "";
  const keep = (d: Buffer) => {
    output += d.toString();
    if (output.length > KEPT_OUTPUT_CHARS) output = output.slice(-KEPT_OUTPUT_CHARS);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  let exit: Exit | undefined;
  const unregister = killOnExit(() => {
    if (!exit) process.kill(pid, "SIGKILL");
  });
  const cancelWatchdog = cleanUpIfOwnerDies(`kill -KILL ${pid} 2>/dev/null`);
  const exited = new Promise<Exit>((resolve) => {
    child.once("exit", (code, signal) => {
      exit = { code, signal };
      unregister();
      cancelWatchdog();
      resolve(exit);
    });
  });
  return {
    pid,
    exited,
    running: () => exit === undefined,
    output: () => output,
    async stop(signal = "SIGTERM", graceMs = 5_000) {
      if (exit) return exit;
      child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      try {
        return await within(graceMs + 5_000, `${opts.what} (pid ${pid}) to exit`, exited);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** True while a process with this pid exists and is not a zombie (a zombie holds nothing: no port, no files). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false; // gone between the two checks
  }
}

/** The pids whose parent is `pid` (from /proc), e.g. a postmaster's backends. */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[1]) === pid) out.push(Number(entry));
    } catch {
      // exited while listing
    }
  }
  return out;
}
