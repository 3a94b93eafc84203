/**
 * The report: targets from issue 4 (and finding 5's growth phase), pass/fail with margins, the printed tables and
 * the JSON files.
 */
import type { EventsFigures } from "./scenarios/events.js";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AnswerFigures, BareFigures } from "./scenarios/answer.js";
import type { LoadResult } from "./loadgen.js";
import { SKEWED_OTHER_CORES } from "./loadgen-runner.js";
import type { CreateFigures } from "./scenarios/create.js";
import type { GrowthFigures } from "./scenarios/growth.js";
import type { PreloadResult } from "./preload.js";
import type { MemoryReading } from "./processes.js";
import type { RoutingQueryFigures } from "./explain.js";
import type { ProfileSummary } from "./profile.js";

export const TARGETS = {
  answerP99Ms: 10,
  answerRate: 1_000,
  answerSaturation: 4_000,
  bareRatio: 0.25,
  createSaturation: 1_000,
  createRate: 500,
  createP99Ms: 25,
  flatnessPct: 20,
  /** Growth phase: create and answer rates at the end within this much of the start (hardening finding 5). */
  growthPct: 20,
  peakRssMiB: 250,
} as const;

export interface LevelReport {
  targetSessions: number;
  /** Open, unexpired sessions when the level's measurements started (preloaded + created by earlier runs). */
  liveSessions: number;
  preload: PreloadResult;
  routingQuery?: RoutingQueryFigures | { skipped: string };
  /** The bare Koa baseline's saturation, measured at this level (same moment, same machine load). */
  bare?: BareFigures;
  answer?: AnswerFigures;
  create?: CreateFigures;
  /** The server's memory figures at the end of the level (VmHWM is the peak so far). */
  serverMemory?: MemoryReading;
}

export interface Check {
  metric: string;
  scale: string;
  target: string;
  value: number | null;
  pass: boolean | null;
  /** How far from the target, when it is missed (or the headroom, when met). */
  margin: string;
}

export interface BenchReport {
  version: 1;
  mode: "quick" | "full";
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  command: string;
  machine: Record<string, unknown>;
  server: Record<string, unknown>;
  setup: Record<string, unknown>;
  /** The first bare measurement (with its fixed-rate run). */
  bare?: BareFigures;
  levels: LevelReport[];
  /** The growth phase: a fresh database grown from empty through the API, never analyzed. */
  growth?: GrowthFigures;
  events?: EventsFigures;
  memory?: MemoryReading;
  checks: Check[];
  profiles?: ProfileSummary[];
  errors: string[];
  notes: string[];
}

const pct = (x: number) => `${x >= 0 ? "+" : ""}${Math.round(x * 10) / 10}%`;

function atMost(metric: string, scale: string, value: number | null | undefined, limit: number, unit: string): Check {
  const v = value ?? null;
  const pass = v === null || Number.isNaN(v) ? null : v <= limit;
  const margin = v === null ? "not measured" : pass ? `${pct(((v - limit) / limit) * 100)} vs limit` : `over by ${pct(((v - limit) / limit) * 100)}`;
  return { metric, scale, target: `≤ ${limit}${unit}`, value: v, pass, margin };
}

function atLeast(metric: string, scale: string, value: number | null | undefined, floor: number, unit: string): Check {
  const v = value ?? null;
  const pass = v === null || Number.isNaN(v) ? null : v >= floor;
  const margin = v === null ? "not measured" : pass ? `${pct(((v - floor) / floor) * 100)} above` : `short by ${pct(((floor - v) / floor) * 100)}`;
  return { metric, scale, target: `≥ ${floor}${unit}`, value: v, pass, margin };
}

export const scaleLabel = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}M` : n >= 1_000 ? `${n / 1_000}k` : String(n));

export function bareRatio(level: LevelReport, bare: BareFigures | undefined): number | null {
  if (!level.answer || !bare || bare.saturation.okPerSecond === 0) return null;
  return Math.round((level.answer.saturation.okPerSecond / bare.saturation.okPerSecond) * 1000) / 1000;
}

export function computeChecks(report: BenchReport): Check[] {
  const checks: Check[] = [];
  for (const level of report.levels) {
    const s = scaleLabel(level.targetSessions);
    if (level.answer) {
      checks.push(atMost(`answer p99 @ ${TARGETS.answerRate}/s`, s, level.answer.fixedRate.latencyMs.p99, TARGETS.answerP99Ms, " ms"));
      checks.push(atLeast("answer saturation", s, level.answer.saturation.okPerSecond, TARGETS.answerSaturation, " req/s"));
      checks.push(atLeast("answer ÷ bare Koa", s, bareRatio(level, level.bare ?? report.bare), TARGETS.bareRatio, ""));
      const bad = level.answer.saturation.checkFailures + level.answer.fixedRate.checkFailures +
        level.answer.saturation.errors + level.answer.fixedRate.errors;
      checks.push({ metric: "answer replies without <Dial> / errors", scale: s, target: "0", value: bad, pass: bad === 0, margin: bad === 0 ? "" : `${bad} bad` });
      const c = level.answer.callRows;
      checks.push({
        metric: "call rows written = 200 replies",
        scale: s,
        target: c.abandoned === 0 ? `${c.okReplies}` : `${c.okReplies}..${c.okReplies + c.abandoned}`,
        value: c.written,
        pass: c.match,
        margin: c.match ? "" : `${c.written - c.okReplies} rows vs 200 replies`,
      });
    }
    if (level.create) {
      checks.push(atLeast("create saturation", s, level.create.saturation.okPerSecond, TARGETS.createSaturation, " /s"));
      checks.push(atMost(`create p99 @ ${TARGETS.createRate}/s`, s, level.create.fixedRate.latencyMs.p99, TARGETS.createP99Ms, " ms"));
      const v = level.create.invariantViolations;
      checks.push({ metric: "invariant violations", scale: s, target: "0", value: v, pass: v === 0, margin: v === 0 ? "" : `${v} groups` });
    }
  }
  const first = report.levels[0];
  const last = report.levels[report.levels.length - 1];
  if (first && last && first !== last) {
    const span = `${scaleLabel(first.targetSessions)}→${scaleLabel(last.targetSessions)}`;
    const change = (a: number | undefined, b: number | undefined) =>
      a === undefined || b === undefined || a === 0 ? null : Math.round(((b - a) / a) * 1000) / 10;
    const p99 = change(first.answer?.fixedRate.latencyMs.p99, last.answer?.fixedRate.latencyMs.p99);
    const thr = change(first.create?.saturation.okPerSecond, last.create?.saturation.okPerSecond);
    for (const [metric, v] of [["answer p99 change", p99], ["create throughput change", thr]] as const) {
      const pass = v === null ? null : Math.abs(v) < TARGETS.flatnessPct;
      checks.push({
        metric,
        scale: span,
        target: `|Δ| < ${TARGETS.flatnessPct}%`,
        value: v,
        pass,
        margin: v === null ? "not measured" : pass ? "" : `over by ${Math.round((Math.abs(v) - TARGETS.flatnessPct) * 10) / 10} points`,
      });
    }
  }
  if (report.growth) checks.push(...growthChecks(report.growth));
  if (report.memory) checks.push(atMost("server peak RSS (VmHWM)", "run", report.memory.vmHwmMiB, TARGETS.peakRssMiB, " MiB"));
  return checks;
}

/** Rates of a few consecutive growth steps: their mean is what start and end compare (one short window is noisy). */
export interface GrowthEnd {
  steps: number[];
  /** Live sessions when the first of them started, and when the last of them started. */
  fromSessions: number;
  toSessions: number;
  createPerSecond: number;
  answerPerSecond: number;
}

/** How many steps make the start and the end: up to 3 each, never overlapping. */
export const GROWTH_END_STEPS = 3;

function growthEnd(steps: GrowthFigures["steps"]): GrowthEnd {
  const mean = (xs: number[]) => Math.round(xs.reduce((a, b) => a + b, 0) / xs.length);
  return {
    steps: steps.map((x) => x.step),
    fromSessions: steps[0]!.sessions,
    toSessions: steps[steps.length - 1]!.sessions,
    createPerSecond: mean(steps.map((x) => x.create.okPerSecond)),
    answerPerSecond: mean(steps.map((x) => x.answer.okPerSecond)),
  };
}

/** The growth phase's start (its first steps) and end (its last steps), measured minutes apart in the same run. */
export function growthSpan(growth: GrowthFigures) {
  const n = growth.steps.length;
  const k = Math.min(GROWTH_END_STEPS, Math.floor(n / 2));
  if (k === 0) return undefined;
  const first = growthEnd(growth.steps.slice(0, k));
  const last = growthEnd(growth.steps.slice(n - k));
  return { first, last, scale: `growth ${scaleLabel(first.fromSessions)}→${scaleLabel(last.toSessions)}` };
}

function growthChecks(growth: GrowthFigures): Check[] {
  const span = growthSpan(growth);
  if (!span) return [{ metric: "growth phase", scale: "growth", target: "≥ 2 steps", value: growth.steps.length, pass: false, margin: "too few steps" }];
  const checks: Check[] = [];
  for (const [metric, pick] of [
    ["growth: create rate change", (e: GrowthEnd) => e.createPerSecond],
    ["growth: answer rate change", (e: GrowthEnd) => e.answerPerSecond],
  ] as const) {
    const a = pick(span.first);
    const b = pick(span.last);
    const v = a === 0 ? null : Math.round(((b - a) / a) * 1000) / 10;
    const pass = v === null ? null : Math.abs(v) < TARGETS.growthPct;
    const margin = v === null ? "not measured" : pass ? "" : `over by ${Math.round((Math.abs(v) - TARGETS.growthPct) * 10) / 10} points`;
    checks.push({ metric, scale: span.scale, target: `|Δ| < ${TARGETS.growthPct}%`, value: v, pass, margin });
  }
  const reached = growth.reachedSessions >= growth.targetSessions;
  checks.push({
    metric: "growth: sessions reached",
    scale: span.scale,
    target: `≥ ${growth.targetSessions}`,
    value: growth.reachedSessions,
    pass: reached,
    margin: reached ? "" : `stopped at the time limit (${Math.round(growth.growMs / 1000)} s)`,
  });
  const bad = growth.steps.reduce((n, s) => n + s.create.bad + s.answer.bad, 0);
  checks.push({ metric: "growth: non-201 creates / non-Dial answers", scale: span.scale, target: "0", value: bad, pass: bad === 0, margin: bad === 0 ? "" : `${bad} bad` });
  return checks;
}

// ---- printing ----

const fmt = (v: number | null | undefined, digits = 0) =>
  v === null || v === undefined || Number.isNaN(v) ? "–" : v.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const mark = (pass: boolean | null | undefined) => (pass === true ? " ✓" : pass === false ? " ✗" : "");

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => [...(r[c] ?? "")].length)));
  const line = (r: string[]) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ");
  return [line(rows[0]!), widths.map((w) => "─".repeat(w)).join("  "), ...rows.slice(1).map(line)].join("\n");
}

function loadsOf(level: LevelReport): LoadResult[] {
  return [level.answer?.saturation, level.answer?.fixedRate, level.create?.saturation, level.create?.fixedRate].filter(
    (l): l is LoadResult => l !== undefined,
  );
}

/** The most CPU (in cores) that processes outside the bench used during any of the level's loads. */
export function backgroundCores(loads: LoadResult[]): number | null {
  const values = loads.map((l) => l.cpu?.otherCores).filter((v): v is number => v !== undefined);
  return values.length ? Math.max(...values) : null;
}

function halfCell(load: LoadResult | undefined): string {
  return load ? `@${fmt(load.offeredRate)}/s: ${fmt(load.latencyMs.p50, 1)}|${fmt(load.latencyMs.p99, 1)}${skew(load)}` : "–";
}

/** "*" on a figure measured while processes outside the bench used more than 0.2 cores. */
function skew(load: LoadResult | undefined): string {
  return (load?.cpu?.otherCores ?? 0) > SKEWED_OTHER_CORES ? "*" : "";
}

function sliceCell(load: LoadResult | undefined, limitMs: number): string {
  const slices = load?.sliceMaxMs;
  return slices ? `${slices.filter((v) => v > limitMs).length}/${slices.length}` : "–";
}

function dbCell(load: LoadResult | undefined): string {
  const d = load?.dbPerRequest;
  return d ? `${fmt(d.xact_commit, 1)}|${fmt((d.tup_fetched ?? 0) + (d.tup_returned ?? 0), 0)}` : "–";
}

function cpuCell(load: LoadResult | undefined): string {
  const c = load?.cpu?.msPerReply;
  return c ? `${fmt(c.server, 2)}|${fmt(c.postgres, 2)}|${fmt(c.loadgen, 2)}` : "–";
}

export function renderTable(report: BenchReport): string {
  const levels = report.levels;
  const find = (metric: string, level: LevelReport) =>
    report.checks.find((c) => c.metric === metric && c.scale === scaleLabel(level.targetSessions));
  const row = (label: string, target: string, cell: (l: LevelReport) => string) => [label, target, ...levels.map(cell)];
  const checked = (metric: string, digits: number, load?: (l: LevelReport) => LoadResult | undefined) => (l: LevelReport) => {
    const c = find(metric, l);
    return c ? `${fmt(c.value, digits)}${skew(load?.(l))}${mark(c.pass)}` : "–";
  };
  const a = (l: LevelReport) => l.answer;
  const cr = (l: LevelReport) => l.create;
  const rows: string[][] = [
    ["metric", "target", ...levels.map((l) => scaleLabel(l.targetSessions))],
    row("live sessions (measured)", "", (l) => fmt(l.liveSessions)),
    row("preload time (s, cumulative level)", "", (l) => fmt(l.preload.totalMs / 1000, 1)),
    row("answer saturation (req/s)", `≥ ${TARGETS.answerSaturation}`, checked("answer saturation", 0, (l) => a(l)?.saturation)),
    row("answer saturation p99 (ms)", "", (l) => fmt(a(l)?.saturation.latencyMs.p99, 1)),
    row(`answer p50 @ ${TARGETS.answerRate}/s (ms)`, "", (l) => fmt(a(l)?.fixedRate.latencyMs.p50, 2)),
    row(`answer p99 @ ${TARGETS.answerRate}/s (ms)`, `≤ ${TARGETS.answerP99Ms}`, checked(`answer p99 @ ${TARGETS.answerRate}/s`, 2, (l) => a(l)?.fixedRate)),
    row(`answer @ ${TARGETS.answerRate}/s: 250 ms slices with a reply > ${TARGETS.answerP99Ms} ms`, "", (l) => sliceCell(a(l)?.fixedRate, TARGETS.answerP99Ms)),
    row(`answer @ ${TARGETS.answerRate}/s: server waiting for a core`, "", (l) => {
      const w = a(l)?.fixedRate.cpu?.serverRunQueueWaitShare;
      return w === undefined ? "–" : `${fmt(w * 100, 1)}%`;
    }),
    row(`answer served @ ${TARGETS.answerRate}/s (req/s)`, "", (l) => fmt(a(l)?.fixedRate.okPerSecond)),
    row(`answer unanswered @ ${TARGETS.answerRate}/s at drain`, "", (l) => fmt(a(l)?.fixedRate.unfinished)),
    row("answer sat. CPU ms/req server|pg|gen", "", (l) => cpuCell(a(l)?.saturation)),
    row("answer sat. DB xacts|rows read /req", "", (l) => dbCell(a(l)?.saturation)),
    row(`answer p50|p99 @ ½ saturation (ms)`, "", (l) => halfCell(a(l)?.halfSaturation)),
    row("bare Koa saturation (req/s)", "", (l) => `${fmt(l.bare?.saturation.okPerSecond)}${skew(l.bare?.saturation)}`),
    row("answer ÷ bare Koa (saturation)", `≥ ${TARGETS.bareRatio}`, checked("answer ÷ bare Koa", 3)),
    row("answer non-Dial replies + errors", "0", checked("answer replies without <Dial> / errors", 0)),
    row("call rows written / 200 replies", "equal", (l) => {
      const c = a(l)?.callRows;
      if (!c) return "–";
      return `${fmt(c.written)}/${fmt(c.okReplies)}${c.abandoned ? `(+${fmt(c.abandoned)}?)` : ""}${mark(c.match)}`;
    }),
    row("routing query alone, unnamed|prepared (ms)", "", (l) =>
      l.routingQuery && "meanMs" in l.routingQuery ? `${fmt(l.routingQuery.meanMs, 3)}|${fmt(l.routingQuery.preparedMeanMs, 3)}` : "–",
    ),
    row("routing query planning|execution (ms)", "", (l) =>
      l.routingQuery && "meanMs" in l.routingQuery ? `${fmt(l.routingQuery.planningMs, 3)}|${fmt(l.routingQuery.executionMs, 3)}` : "–",
    ),
    row("create saturation (/s)", `≥ ${TARGETS.createSaturation}`, checked("create saturation", 0, (l) => cr(l)?.saturation)),
    row(`create p50 @ ${TARGETS.createRate}/s (ms)`, "", (l) => fmt(cr(l)?.fixedRate.latencyMs.p50, 2)),
    row(`create p99 @ ${TARGETS.createRate}/s (ms)`, `≤ ${TARGETS.createP99Ms}`, checked(`create p99 @ ${TARGETS.createRate}/s`, 2, (l) => cr(l)?.fixedRate)),
    row(`create p50|p99 @ ½ saturation (ms)`, "", (l) => halfCell(cr(l)?.halfSaturation)),
    row("create sat. CPU ms/req server|pg|gen", "", (l) => cpuCell(cr(l)?.saturation)),
    row("create sat. DB xacts|rows read /req", "", (l) => dbCell(cr(l)?.saturation)),
    row("create non-201 share (answered)", "", (l) => (cr(l) ? `${fmt(cr(l)!.nonCreatedShare * 100, 2)}%` : "–")),
    row(`create unanswered @ ${TARGETS.createRate}/s at drain`, "", (l) => fmt(cr(l)?.fixedRate.unfinished)),
    row("invariant violations", "0", checked("invariant violations", 0)),
    row("server VmHWM so far (MiB)", "", (l) => fmt(l.serverMemory?.vmHwmMiB, 1)),
    row("server VmRSS peak a.sat|a.1000|c.sat|c.500", "", (l) =>
      [a(l)?.saturation, a(l)?.fixedRate, cr(l)?.saturation, cr(l)?.fixedRate].map((x) => fmt(x?.serverRssPeakMiB)).join("|"),
    ),
    row("background CPU, worst load (cores)", "≈ 0", (l) => fmt(backgroundCores(loadsOf(l)), 2)),
  ];
  const out = [table(rows)];
  if (report.bare?.fixedRate) {
    const b = { saturation: report.bare.saturation, fixedRate: report.bare.fixedRate };
    out.push(
      `bare Koa: saturation ${fmt(b.saturation.okPerSecond)} req/s (p99 ${fmt(b.saturation.latencyMs.p99, 1)} ms); ` +
        `@ ${TARGETS.answerRate}/s p50 ${fmt(b.fixedRate.latencyMs.p50, 2)} ms, p99 ${fmt(b.fixedRate.latencyMs.p99, 2)} ms; ` +
        `CPU ms/req bare|gen ${fmt(b.saturation.cpu?.msPerReply.bare, 3)}|${fmt(b.saturation.cpu?.msPerReply.loadgen, 3)}`,
    );
  }
  if (report.growth) out.push(renderGrowth(report.growth));
  for (const c of report.checks.filter((c) => c.scale.includes("→") || c.scale === "run")) {
    out.push(`${c.metric} (${c.scale}): ${fmt(c.value, 1)} target ${c.target}${mark(c.pass)} ${c.margin}`);
  }
  if (report.memory) out.push(`server RSS: after start ${fmt(report.server.rssAfterStartMiB as number | undefined, 1)} MiB, peak VmHWM ${report.memory.vmHwmMiB} MiB, max sampled VmRSS ${report.memory.maxSampledRssMiB} MiB`);
  const noisy = Math.max(
    backgroundCores(report.levels.flatMap(loadsOf)) ?? 0,
    backgroundCores(report.levels.flatMap((l) => (l.bare ? [l.bare.saturation, ...(l.bare.fixedRate ? [l.bare.fixedRate] : [])] : []))) ?? 0,
  );
  if (noisy > SKEWED_OTHER_CORES) {
    out.push(`* measured while processes outside the bench used more than ${SKEWED_OTHER_CORES} cores (up to ${fmt(noisy, 2)}), even after one repeat: skewed.`);
  }
  const failed = report.checks.filter((c) => c.pass === false);
  out.push(failed.length === 0 ? "all targets met" : `targets missed: ${failed.map((c) => `${c.metric} @ ${c.scale} (${c.margin})`).join("; ")}`);
  return out.join("\n");
}

/** The growth phase's steps, one row each, and the start→end comparison. */
export function renderGrowth(growth: GrowthFigures): string {
  const rows: string[][] = [
    ["growth step", "live sessions", "call rows", "create/s", "create p99 (ms)", "answer/s", "answer p99 (ms)", "rows read /create|/answer"],
    ...growth.steps.map((s) => [
      String(s.step),
      fmt(s.sessions),
      fmt(s.calls),
      `${fmt(s.create.okPerSecond)}${(s.create.otherCores ?? 0) > SKEWED_OTHER_CORES ? "*" : ""}`,
      fmt(s.create.p99Ms, 1),
      `${fmt(s.answer.okPerSecond)}${(s.answer.otherCores ?? 0) > SKEWED_OTHER_CORES ? "*" : ""}`,
      fmt(s.answer.p99Ms, 1),
      s.create.rowsReadPerRequest === undefined ? "" : `${fmt(s.create.rowsReadPerRequest)}|${fmt(s.answer.rowsReadPerRequest)}`,
    ]),
  ];
  const analyzed = growth.analyzedTables.length ? `tables with statistics: ${growth.analyzedTables.join(", ")}` : "no table analyzed";
  const head =
    `growth from empty through the API (database ${growth.database}, nothing preloaded, ${analyzed}; ` +
    `server autovacuum ${growth.autovacuum}, off for these tables): ${fmt(growth.reachedSessions)} sessions, ` +
    `${fmt(growth.calls)} call rows in ${fmt(growth.growMs / 1000, 0)} s`;
  const lines = [head, table(rows)];
  const span = growthSpan(growth);
  if (span) {
    const ratio = (a: number, b: number) => (a === 0 ? "–" : fmt(b / a, 2));
    lines.push(
      `growth start (steps ${span.first.steps.join(",")}, ${fmt(span.first.fromSessions)}–${fmt(span.first.toSessions)} sessions) → ` +
        `end (steps ${span.last.steps.join(",")}, ${fmt(span.last.fromSessions)}–${fmt(span.last.toSessions)} sessions), mean rates: ` +
        `create ${fmt(span.first.createPerSecond)} → ${fmt(span.last.createPerSecond)}/s (× ${ratio(span.first.createPerSecond, span.last.createPerSecond)}), ` +
        `answer ${fmt(span.first.answerPerSecond)} → ${fmt(span.last.answerPerSecond)}/s (× ${ratio(span.first.answerPerSecond, span.last.answerPerSecond)})`,
    );
  }
  return lines.join("\n");
}

/**
 * `complete` (a full run of every scenario at the default levels and settings) writes latest.json, the committed
 * report the README cites; anything narrower writes latest-partial.json (not committed), so a quick run made while
 * developing cannot replace it by accident.
 */
export function writeReport(report: BenchReport, dir: string, complete: boolean): { latest: string; stamped: string } {
  mkdirSync(dir, { recursive: true });
  const json = `${JSON.stringify(report, null, 2)}\n`;
  const latest = join(dir, complete ? "latest.json" : "latest-partial.json");
  const stamped = join(dir, `${report.startedAt.replace(/[:.]/g, "-")}${report.mode === "quick" ? "-quick" : ""}.json`);
  writeFileSync(latest, json);
  writeFileSync(stamped, json);
  return { latest, stamped };
}
