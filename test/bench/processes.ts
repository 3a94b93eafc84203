/**
 * Child processes of a bench run: the services script, the Maskline server, the bare Koa baseline and the load
 * generator. Every process started here is registered for cleanup, and cleanup runs on normal exit, on an error
 * and on Ctrl-C (SIGTERM first, SIGKILL after a grace period), so a failed run does not leave a server behind.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

export const REPO_ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

const started = new Set<ChildProcess>();

/** Stops every process this run started: SIGTERM, then SIGKILL after `graceMs`. Safe to call twice. */
export async function stopAll(graceMs = 8_000): Promise<void> {
  await Promise.all([...started].map((child) => stopProcess(child, graceMs)));
}

export async function stopProcess(child: ChildProcess, graceMs = 8_000): Promise<void> {
  started.delete(child);
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

let handlersInstalled = false;
/** Ctrl-C / SIGTERM: stop the children, then exit non-zero. A last-resort synchronous kill runs on 'exit'. */
export function installCleanupHandlers(log: (line: string) => void): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  const onSignal = (signal: NodeJS.Signals) => {
    log(`\n${signal}: stopping the processes this run started…`);
    void stopAll(3_000).finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  process.once("exit", () => {
    for (const child of started) if (child.exitCode === null) child.kill("SIGKILL");
  });
}

/** Runs a command to completion (inherits nothing; output captured). Rejects on a non-zero exit. */
export function runCommand(cmd: string, args: string[], opts: { cwd?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd ?? REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(" ")} exited ${code}:\n${out}`))));
  });
}

/** A TCP port that was free a moment ago (bound to port 0, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface Started {
  child: ChildProcess;
  pid: number;
  logPath: string;
  /** Set when the process has exited (by itself or stopped by us). */
  exit?: { code: number | null; signal: NodeJS.Signals | null; at: Date };
}

/** Throws, with the exit status and the log's tail, when a process the run depends on has died. */
export function assertAlive(proc: Started, what: string): void {
  if (!proc.exit) return;
  throw new Error(
    `${what} (pid ${proc.pid}) exited at ${proc.exit.at.toISOString()} with ${proc.exit.signal ?? `code ${proc.exit.code}`}; ` +
      `log ${proc.logPath}:\n${tail(proc.logPath)}`,
  );
}

/** Starts `node <nodeArgs>` from the repository root, output to `logPath`; registered for cleanup. */
export function startNode(nodeArgs: string[], env: NodeJS.ProcessEnv, logPath: string): Started {
  const log = createWriteStream(logPath);
  const child = spawn(process.execPath, nodeArgs, { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  if (child.pid === undefined) throw new Error(`could not start node ${nodeArgs.join(" ")}`);
  started.add(child);
  const proc: Started = { child, pid: child.pid, logPath };
  child.once("exit", (code, signal) => {
    started.delete(child);
    proc.exit = { code, signal, at: new Date() };
  });
  return proc;
}

/** Polls `url` until it answers 200, the process dies, or `timeoutMs` passes. */
export async function waitForHttp200(url: string, proc: Started, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null) {
      throw new Error(`process ${proc.pid} exited (${proc.child.exitCode}) before ${url} was ready; see ${proc.logPath}:\n${tail(proc.logPath)}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms; see ${proc.logPath}:\n${tail(proc.logPath)}`);
}

export function tail(path: string, lines = 20): string {
  try {
    return readFileSync(path, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

export interface MemoryReading {
  /** Peak resident set size the kernel recorded for the process (VmHWM), MiB. */
  vmHwmMiB: number;
  /** The largest VmRSS seen by the sampler, MiB. */
  maxSampledRssMiB: number;
  samples: number;
}

/** Samples /proc/<pid>/status every `intervalMs`; `read()` returns the figures so far (VmHWM read fresh). */
export function sampleMemory(pid: number, intervalMs = 250) {
  let maxRss = 0;
  let phaseMax = 0;
  let lastHwm = 0;
  let samples = 0;
  const readStatus = () => {
    try {
      const text = readFileSync(`/proc/${pid}/status`, "utf8");
      const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? 0);
      lastHwm = Math.max(lastHwm, kib("VmHWM"));
      const rss = kib("VmRSS");
      maxRss = Math.max(maxRss, rss);
      phaseMax = Math.max(phaseMax, rss);
      samples++;
    } catch {
      // the process has gone; keep the last figures
    }
  };
  readStatus();
  const timer = setInterval(readStatus, intervalMs);
  timer.unref();
  return {
    read(): MemoryReading {
      readStatus();
      return { vmHwmMiB: round1(lastHwm / 1024), maxSampledRssMiB: round1(maxRss / 1024), samples };
    },
    /** The largest VmRSS sampled since the previous call (MiB): the peak of one phase of the run. */
    phasePeakMiB(): number {
      readStatus();
      const peak = phaseMax;
      phaseMax = 0;
      return round1(peak / 1024);
    },
    stop() {
      clearInterval(timer);
    },
  };
}

const round1 = (n: number) => Math.round(n * 10) / 10;
