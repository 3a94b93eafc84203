/**
 * A Redis the test owns: `redis-server` on a free port of 127.0.0.1, no persistence (so a kill loses everything,
 * as a crashed cache would), its folder in a temporary directory removed by stop(). Never the shared 6379.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requireOwnedTools } from "./tools.js";
import { cleanUpIfOwnerDies, freePort, spawnOwned, waitFor, type OwnedChild } from "./processes.js";

export interface OwnedRedis {
  url: string;
  port: number;
  /** SIGKILL: the service sees its connections drop and every key is gone. */
  kill(): Promise<void>;
  /** A fresh, empty server on the same port (killing the running one first, if any). */
  restart(): Promise<void>;
  flushAll(): Promise<void>;
  /** One command over a fresh connection; the reply as text (simple strings, integers, bulk strings). */
  command(...args: string[]): Promise<string>;
  /** Final teardown: stops the server and removes its folder. Safe to call twice. */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 10_000;
const COMMAND_TIMEOUT_MS = 2_000;

/** Encodes a command in RESP and returns the first complete reply (no arrays: the suite never needs them). */
export function redisCommand(port: number, args: string[], timeoutMs = COMMAND_TIMEOUT_MS): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    let buffer = Buffer.alloc(0);
    const done = (err: Error | null, value?: string) => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(value!);
    };
    const timer = setTimeout(() => done(new Error(`redis ${args[0]} on port ${port}: no reply within ${timeoutMs} ms`)), timeoutMs);
    socket.once("error", (err) => done(err));
    socket.on("data", (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      const lineEnd = buffer.indexOf("\r\n");
      if (lineEnd === -1) return;
      const type = String.fromCharCode(buffer[0]!);
      const line = buffer.subarray(1, lineEnd).toString();
      if (type === "+" || type === ":") return done(null, line);
      if (type === "-") return done(new Error(`redis ${args[0]}: ${line}`));
      if (type === "$") {
        const length = Number(line);
        if (length === -1) return done(null, "");
        const start = lineEnd + 2;
        if (buffer.length >= start + length + 2) done(null, buffer.subarray(start, start + length).toString());
        return;
      }
      done(new Error(`redis ${args[0]}: unexpected reply type ${type}`));
    });
    socket.write(`*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join(""));
  });
}

export async function startOwnedRedis(): Promise<OwnedRedis> {
  const tools = await requireOwnedTools();
  const dir = mkdtempSync(join(tmpdir(), "maskline-redis-"));
  const port = await freePort();
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--logfile", ""];
  let server: OwnedChild | undefined;

  async function launch() {
    const child = spawnOwned(tools.redisServer, args, { cwd: dir, what: `owned redis-server on ${port}` });
    server = child;
    await waitFor(
      `owned Redis on port ${port} answering PING`,
      async () => {
        if (!child.running()) throw new Error(`redis-server exited: ${child.output().slice(-2_000)}`);
        return (await redisCommand(port, ["PING"], 500)) === "PONG" ? true : undefined;
      },
      { timeoutMs: START_TIMEOUT_MS, intervalMs: 50 },
    );
  }

  try {
    await launch();
  } catch (err) {
    await server?.stop("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  // The folder outlives a killed test process otherwise (the server itself is watched by spawnOwned).
  const cancelFolderWatchdog = cleanUpIfOwnerDies(`sleep 2; rm -rf '${dir}'`);
  let stopped = false;
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async kill() {
      await server?.stop("SIGKILL");
    },
    async restart() {
      await server?.stop("SIGKILL");
      await launch();
    },
    async flushAll() {
      const reply = await redisCommand(port, ["FLUSHALL"]);
      if (reply !== "OK") throw new Error(`FLUSHALL answered ${reply}`);
    },
    command: (...commandArgs: string[]) => redisCommand(port, commandArgs),
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        await server?.stop("SIGTERM", 3_000);
      } finally {
        cancelFolderWatchdog();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
