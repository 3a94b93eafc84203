/**
 * Who used the machine's CPU during a load: user+system time from /proc/<pid>/stat for the server, PostgreSQL
 * (the bench databases' backends and the shared background processes), Redis, the load generator, the bare
 * baseline, this orchestrator, and everything else. On a 2-core machine where all of them share the cores, this
 * says whether the server, the database or the generator is the limit, and whether something outside the bench
 * (another test run on the same machine) took CPU during the measurement.
 */
import { readFileSync, readdirSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { BENCH_DATABASES } from "./db.js";

export const CPU_GROUPS = ["server", "postgres", "redis", "loadgen", "bare", "bench", "other"] as const;
export type CpuGroup = (typeof CPU_GROUPS)[number];
/** Per process: CPU ticks (all threads), and nanoseconds its main thread spent runnable but waiting for a core. */
export type CpuSnapshot = Map<number, { group: CpuGroup; ticks: number; waitNs: number }>;

const TICKS_PER_SECOND = 100; // getconf CLK_TCK on Linux

const roles = new Map<number, CpuGroup>([[process.pid, "bench"]]);
/** Names a process started by the bench (the server, the bare baseline, a load generator). */
export function setCpuRole(pid: number, group: CpuGroup): void {
  roles.set(pid, group);
}

function classify(pid: number, comm: string): CpuGroup {
  const role = roles.get(pid);
  if (role) return role;
  if (comm.startsWith("redis-server")) return "redis";
  if (comm !== "postgres") return "other";
  // A backend's title is "postgres: <user> <database> <client> <state>"; background workers have other titles.
  let title = "";
  try {
    title = readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
  } catch {
    return "postgres";
  }
  const backend = /^postgres: \S+ (\S+) (?:\d|\[local\])/.exec(title);
  return backend && !BENCH_DATABASES.includes(backend[1]!) ? "other" : "postgres";
}

export function cpuSnapshot(): CpuSnapshot {
  const snap: CpuSnapshot = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue;
    }
    // comm is in parentheses and may contain spaces; the fields after it are space-separated.
    const close = stat.lastIndexOf(")");
    const comm = stat.slice(stat.indexOf("(") + 1, close);
    const fields = stat.slice(close + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of the full line)
    let waitNs = 0;
    try {
      // "<ns on cpu> <ns waiting on a run queue> <timeslices>" (the thread group leader: Node's event-loop thread)
      waitNs = Number(readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ")[1] ?? 0);
    } catch {
      // no schedstat (kernel without CONFIG_SCHEDSTATS): wait stays 0
    }
    snap.set(pid, { group: classify(pid, comm), ticks, waitNs });
  }
  return snap;
}

/** Seconds each group's main threads spent waiting for a core between two snapshots (summed over processes). */
export function runQueueWait(before: CpuSnapshot, after: CpuSnapshot): Record<CpuGroup, number> {
  const out = Object.fromEntries(CPU_GROUPS.map((g) => [g, 0])) as Record<CpuGroup, number>;
  for (const [pid, now] of after) {
    const then = before.get(pid)?.waitNs ?? 0;
    out[now.group] += Math.max(0, now.waitNs - then) / 1e9;
  }
  for (const k of CPU_GROUPS) out[k] = Math.round(out[k] * 1000) / 1000;
  return out;
}

/** CPU seconds per group between two snapshots (processes that started in between count from zero). */
export function cpuDelta(before: CpuSnapshot, after: CpuSnapshot): Record<CpuGroup, number> {
  const out = Object.fromEntries(CPU_GROUPS.map((g) => [g, 0])) as Record<CpuGroup, number>;
  for (const [pid, now] of after) {
    const then = before.get(pid)?.ticks ?? 0;
    out[now.group] += Math.max(0, now.ticks - then) / TICKS_PER_SECOND;
  }
  for (const k of CPU_GROUPS) out[k] = Math.round(out[k] * 100) / 100;
  return out;
}

// The whole run waits at most this long in total for quiet (a machine that never calms down must not make the
// bench overrun its time budget); each load then starts anyway, and its background load is in the report.
let quietBudgetMs = Number(process.env.BENCH_QUIET_BUDGET_MS ?? 60_000);

/**
 * Waits (up to `maxWaitMs`, within the run's total budget) for a second in which processes outside the bench used
 * at most `maxOtherCores` of a core, so a measurement does not start while another test run is hammering the
 * machine. Returns how long it waited and the background load of the last second measured.
 */
export async function waitForQuiet(maxWaitMs = 20_000, maxOtherCores = 0.15): Promise<{ waitedMs: number; otherCores: number }> {
  const t0 = performance.now();
  for (;;) {
    const before = cpuSnapshot();
    await sleep(500);
    const other = cpuDelta(before, cpuSnapshot()).other * 2;
    const waitedMs = Math.round(performance.now() - t0);
    if (other <= maxOtherCores || waitedMs >= Math.min(maxWaitMs, quietBudgetMs)) {
      quietBudgetMs = Math.max(0, quietBudgetMs - waitedMs);
      return { waitedMs, otherCores: Math.round(other * 100) / 100 };
    }
  }
}
