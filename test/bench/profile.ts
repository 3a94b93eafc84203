/** Summarises a V8 .cpuprofile (node --cpu-prof): self time by function and by package, largest first. */
import { readFileSync } from "node:fs";

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface ProfileSummary {
  file: string;
  /** What part of the run the summary covers. */
  label: string;
  /** Busy (non-idle) time in the profile. */
  totalMs: number;
  wallMs: number;
  topFunctions: Array<{ name: string; where: string; selfMs: number; share: number }>;
  byPackage: Array<{ name: string; selfMs: number; share: number }>;
  /**
   * Inclusive time of the server's own functions (server/src/… or the server/dist bundle): the function and everything it called, each
   * sample counted once per function. This is where a request's time goes, in the code's own terms.
   */
  inclusiveServer: Array<{ name: string; where: string; totalMs: number; share: number }>;
}

function packageOf(functionName: string, url: string): string {
  if (url === "") return functionName.startsWith("(") ? functionName : "(native)";
  const nm = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  if (url.startsWith("node:")) return "node core";
  const repo = /\/(server\/(?:src\/[^/]+|dist))/.exec(url);
  return repo ? repo[1]! : url.replace(/^file:\/\//, "");
}

/**
 * Summarises `file`, or only the samples inside `windowUs` (monotonic µs, the clock V8 profiles use), e.g. one
 * load's measured window.
 */
export function summariseProfile(file: string, label: string, windowUs?: [number, number], top = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  // Hits per node: from the sample stream when a window is asked for, else the nodes' own counts.
  const hitsById = new Map<number, number>();
  let wallMs = (profile.endTime - profile.startTime) / 1000;
  if (windowUs && profile.samples && profile.timeDeltas) {
    let t = profile.startTime;
    for (let i = 0; i < profile.samples.length; i++) {
      t += profile.timeDeltas[i] ?? 0;
      if (t < windowUs[0] || t > windowUs[1]) continue;
      const id = profile.samples[i]!;
      hitsById.set(id, (hitsById.get(id) ?? 0) + 1);
    }
    wallMs = (windowUs[1] - windowUs[0]) / 1000;
  } else {
    for (const node of profile.nodes) hitsById.set(node.id, node.hitCount ?? 0);
  }
  const hitsOf = (node: CpuProfileNode) => hitsById.get(node.id) ?? 0;
  const allHits = profile.nodes.reduce((n, node) => n + hitsOf(node), 0) || 1;
  const idleHits = profile.nodes.filter((n) => n.callFrame.functionName === "(idle)").reduce((n, node) => n + hitsOf(node), 0);
  const msPerHit = wallMs / allHits;
  // Shares are of busy time: the idle samples (waiting for I/O) are left out.
  const totalHits = Math.max(1, allHits - idleHits);
  const totalMs = totalHits * msPerHit;
  const fns = new Map<string, { name: string; where: string; hits: number }>();
  const pkgs = new Map<string, number>();
  for (const node of profile.nodes) {
    const hits = hitsOf(node);
    if (hits === 0 || node.callFrame.functionName === "(idle)") continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url === "" ? "" : `${url.replace(/^file:\/\/.*?\/(server|node_modules)\//, "$1/")}:${lineNumber + 1}`;
    const key = `${functionName}@${where}`;
    const entry = fns.get(key) ?? { name: functionName || "(anonymous)", where, hits: 0 };
    entry.hits += hits;
    fns.set(key, entry);
    const pkg = packageOf(functionName, url);
    pkgs.set(pkg, (pkgs.get(pkg) ?? 0) + hits);
  }
  // Inclusive time per server function: walk each sampled node's ancestry once, crediting every server frame.
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const inclusive = new Map<string, { name: string; where: string; hits: number }>();
  for (const node of profile.nodes) {
    const hits = hitsOf(node);
    if (hits === 0 || node.callFrame.functionName === "(idle)") continue;
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)!.callFrame;
      // The server's own code, as TypeScript (tsx) or as the compiled bundle (server/dist).
      const at = Math.max(frame.url.indexOf("/server/src/"), frame.url.indexOf("/server/dist/"));
      if (at === -1) continue;
      const where = `${frame.url.slice(at + 1)}:${frame.lineNumber + 1}`;
      const key = `${frame.functionName}@${where}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const entry = inclusive.get(key) ?? { name: frame.functionName || "(anonymous)", where, hits: 0 };
      entry.hits += hits;
      inclusive.set(key, entry);
    }
  }
  const r1 = (n: number) => Math.round(n * 10) / 10;
  return {
    file,
    label,
    totalMs: Math.round(totalMs),
    wallMs: Math.round(wallMs),
    topFunctions: [...fns.values()]
      .sort((a, b) => b.hits - a.hits)
      .slice(0, top)
      .map((f) => ({ name: f.name, where: f.where, selfMs: Math.round(f.hits * msPerHit), share: r1((100 * f.hits) / totalHits) })),
    byPackage: [...pkgs.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, hits]) => ({ name, selfMs: Math.round(hits * msPerHit), share: r1((100 * hits) / totalHits) })),
    inclusiveServer: [...inclusive.values()]
      .sort((a, b) => b.hits - a.hits)
      .slice(0, top)
      .map((f) => ({ name: f.name, where: f.where, totalMs: Math.round(f.hits * msPerHit), share: r1((100 * f.hits) / totalHits) })),
  };
}
