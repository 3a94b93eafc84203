/**
 * Who used the machine's CPU during a load: user+system time from /proc/<pid>/stat for the server, PostgreSQL
 * (every `postgres` process), Redis, the load generator and the rest. On a 2-core machine where all of them share
 * the cores, this is what says whether the server, the database or the generator is the limit.
 */
import { readFileSync, readdirSync } from "node:fs";

export type CpuGroup = "server" | "postgres" | "redis" | "loadgen" | "bare" | "other";
export type CpuSnapshot = Map<number, { group: CpuGroup; ticks: number }>;

const TICKS_PER_SECOND = 100; // getconf CLK_TCK on Linux

const roles = new Map<number, CpuGroup>();
/** Names a process started by the bench (the server, the bare baseline, a load generator). */
export function setCpuRole(pid: number, group: CpuGroup): void {
  roles.set(pid, group);
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
    const group: CpuGroup =
      roles.get(pid) ?? (comm === "postgres" ? "postgres" : comm.startsWith("redis-server") ? "redis" : "other");
    snap.set(pid, { group, ticks });
  }
  return snap;
}

/** CPU seconds per group between two snapshots (processes that started in between count from zero). */
export function cpuDelta(before: CpuSnapshot, after: CpuSnapshot): Record<CpuGroup, number> {
  const out: Record<CpuGroup, number> = { server: 0, postgres: 0, redis: 0, loadgen: 0, bare: 0, other: 0 };
  for (const [pid, now] of after) {
    const then = before.get(pid)?.ticks ?? 0;
    out[now.group] += Math.max(0, now.ticks - then) / TICKS_PER_SECOND;
  }
  for (const k of Object.keys(out) as CpuGroup[]) out[k] = Math.round(out[k] * 100) / 100;
  return out;
}
