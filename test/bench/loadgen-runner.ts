/**
 * Runs a load in its own load-generator process (loadgen-child.ts → loadgen.ts) and accounts what the machine did
 * meanwhile: CPU per process group inside the measured window (the child marks its start and end), the server's
 * peak RSS, and whether something outside the bench was busy (a skewed run is repeated once).
 */
import { fork } from "node:child_process";
import { cpuDelta, cpuSnapshot, runQueueWait, setCpuRole, waitForQuiet, type CpuGroup, type CpuSnapshot } from "./cpu.js";
import type { LoadResult, LoadSpec } from "./loadgen.js";

/** Background load (cores) above which a run is considered skewed and repeated once. */
export const SKEWED_OTHER_CORES = 0.2;
let repeatsLeft = Number(process.env.BENCH_MAX_REPEATS ?? 4);
let serverRssProbe: (() => number) | undefined;
/** A probe returning the server's peak VmRSS since the previous call (MiB); each load reports its own peak. */
export function setServerRssProbe(probe: () => number): void {
  serverRssProbe = probe;
}

/**
 * Runs one load in a separate load-generator process. A run during which processes outside the bench used more than
 * SKEWED_OTHER_CORES is repeated once (a few times per bench run at most) and the cleaner attempt kept;
 * `allAttempts` sums what every attempt sent, for accounting against the database (call rows, sessions).
 */
export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  serverRssProbe?.();
  let result = await runLoadOnce(spec);
  result.serverRssPeakMiB = serverRssProbe?.();
  const all = { ...result.totals };
  let attempts = 1;
  if ((result.cpu?.otherCores ?? 0) > SKEWED_OTHER_CORES && repeatsLeft > 0) {
    repeatsLeft--;
    const again = await runLoadOnce(spec);
    again.serverRssPeakMiB = serverRssProbe?.();
    attempts++;
    for (const k of Object.keys(all) as Array<keyof typeof all>) all[k] += again.totals[k];
    if ((again.cpu?.otherCores ?? 0) < (result.cpu?.otherCores ?? 0)) result = again;
  }
  return { ...result, attempts, allAttempts: all };
}

async function runLoadOnce(spec: LoadSpec): Promise<LoadResult> {
  const quiet = await waitForQuiet();
  return new Promise((resolve, reject) => {
    let startedAt = 0;
    let after: CpuSnapshot | undefined;
    let endedAt = 0;
    const child = fork(new URL("./loadgen-child.ts", import.meta.url).pathname, [], {
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    let result: LoadResult | undefined;
    let before: CpuSnapshot | undefined;
    const kill = () => child.kill("SIGTERM");
    process.once("exit", kill);
    if (child.pid !== undefined) setCpuRole(child.pid, "loadgen");
    child.on("message", (msg: { ready?: boolean; mark?: "start" | "end"; result?: LoadResult; error?: string }) => {
      if (msg.ready) child.send(spec);
      else if (msg.mark === "start") {
        before = cpuSnapshot();
        startedAt = performance.now();
      } else if (msg.mark === "end") {
        after = cpuSnapshot();
        endedAt = performance.now();
      } else if (msg.error) reject(new Error(`load generator: ${msg.error}`));
      else if (msg.result) {
        result = msg.result;
        if (before && after) {
          const seconds = cpuDelta(before, after);
          const replies = Math.max(1, result.completed);
          const msPerReply = Object.fromEntries(
            Object.entries(seconds).map(([k, v]) => [k, Math.round(((v * 1000) / replies) * 1000) / 1000]),
          ) as Record<CpuGroup, number>;
          const wallS = (endedAt - startedAt) / 1000;
          const waited = runQueueWait(before, after);
          result.cpu = {
            seconds,
            msPerReply,
            otherCores: Math.round((seconds.other / wallS) * 100) / 100,
            quiet,
            serverRunQueueWaitShare: Math.round((waited.server / wallS) * 1000) / 1000,
            postgresRunQueueWaitSeconds: waited.postgres,
          };
        }
      }
    });
    child.on("error", reject);
    child.on("exit", (code) => {
      process.off("exit", kill);
      if (result) resolve(result);
      else reject(new Error(`load generator exited (${code}) without a result`));
    });
  });
}
