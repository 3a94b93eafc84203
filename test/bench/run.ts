/**
 * `pnpm bench [--quick] [--profile] [--only=bare,answer,create,growth] [--levels=10000,100000] [--no-half | --half]`
 *
 * Starts PostgreSQL and Redis (.ci/services.sh), recreates the `maskline_bench` database, starts the real server
 * and the bare Koa baseline as their own processes, sets up a tenant/app/DID pool through the public API, then for
 * each scale level bulk-loads live sessions and measures the answer webhook and session creation. Then the growth
 * phase: a second server on a fresh `maskline_bench_growth` database, grown from empty through the API without
 * ANALYZE (growth.ts). Prints the tables, writes test/bench/reports/latest.json (and a timestamped copy), and stops
 * everything it started, also on failure or Ctrl-C. See test/bench/README.md.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, statSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { createKeyring } from "../../server/src/crypto/keyring.js";
import { parseMasterKey } from "../../server/src/crypto/tokens.js";
import { acquireRunLock, benchDatabaseUrl, connectBench, postgresInfo, recreateBenchDatabase, scalar } from "./db.js";
import { newPreloadState, preloadSessions } from "./preload.js";
import {
  REPO_ROOT,
  assertAlive,
  freePort,
  installCleanupHandlers,
  runCommand,
  sampleMemory,
  startNode,
  stopAll,
  stopProcess,
  waitForHttp200,
} from "./processes.js";
import { summariseProfile } from "./profile.js";
import { setCpuRole } from "./cpu.js";
import { computeChecks, renderTable, scaleLabel, writeReport, type BenchReport, type LevelReport } from "./report.js";
import { measureLevel } from "./levels.js";
import type { LoadResult } from "./loadgen.js";
import { setServerRssProbe } from "./loadgen-runner.js";
import type { CreatePeopleState } from "./scenarios/create.js";
import { FULL, QUICK, type Profile } from "./profiles.js";
import { setupTenant } from "./setup.js";
import { runGrowthPhase } from "./growth.js";
import { measureEventsOverhead } from "./scenarios/events.js";
import { startBenchServer } from "./server.js";

const REPORT_DIR = join(REPO_ROOT, "test/bench/reports");
const SCENARIOS = ["bare", "answer", "create", "events", "growth"] as const;
const REDIS_URL = process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379/9"; // its own logical database: nothing shared is touched

function parseArgs(argv: string[]) {
  const flag = (name: string) => argv.includes(`--${name}`);
  const value = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
  const quick = flag("quick");
  const profile: Profile = structuredClone(quick ? QUICK : FULL);
  const levels = value("levels");
  if (levels) profile.levels = levels.split(",").map((s) => Number(s.replace(/_/g, "")));
  const only = new Set((value("only") ?? SCENARIOS.join(",")).split(","));
  // Quick mode skips the half-saturation runs unless --half asks for them (it keeps the run near a minute).
  const noHalf = flag("no-half") || (quick && !flag("half"));
  // Only a run of everything, as documented, may replace the report the README cites (latest.json).
  const complete = !quick && !levels && SCENARIOS.every((x) => only.has(x)) && !flag("profile") && process.env.BENCH_RATE_LIMIT === undefined;
  return { quick, cpuProf: flag("profile"), noHalf, profile, only, complete };
}

const t0 = performance.now();
const log = (line: string) => process.stdout.write(`[bench ${((performance.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${line}\n`);

async function machineInfo() {
  const cpus = os.cpus();
  let redisVersion = "unknown";
  try {
    redisVersion = /redis_version:(\S+)/.exec(await runCommand("redis-cli", ["-u", REDIS_URL, "info", "server"]))?.[1] ?? "unknown";
  } catch {
    // reported as unknown
  }
  return {
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    cpuModel: cpus[0]?.model ?? "unknown",
    cpuCount: cpus.length,
    totalMemMiB: Math.round(os.totalmem() / 2 ** 20),
    node: process.version,
    redis: redisVersion,
  };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const { profile } = args;
  installCleanupHandlers(log);
  const startedAt = new Date();
  const stamp = startedAt.toISOString().replace(/[:.]/g, "-");
  const workDir = join(os.tmpdir(), `maskline-bench-${stamp}`);
  mkdirSync(workDir, { recursive: true });
  const report: BenchReport = {
    version: 1,
    mode: args.quick ? "quick" : "full",
    startedAt: startedAt.toISOString(),
    finishedAt: "",
    durationSeconds: 0,
    command: `pnpm bench ${process.argv.slice(2).join(" ")}`.trim(),
    machine: {},
    server: {},
    setup: {},
    levels: [],
    checks: [],
    errors: [],
    notes: [],
  };
  const dbs: Array<{ end(): Promise<void> }> = [];
  let memory: ReturnType<typeof sampleMemory> | undefined;
  let lock: { release(): Promise<void> } | undefined;

  try {
    log("starting PostgreSQL and Redis (.ci/services.sh)");
    await runCommand("bash", [".ci/services.sh"]);
    lock = await acquireRunLock(log);
    log("recreating database maskline_bench");
    await recreateBenchDatabase();

    const masterKey = randomBytes(32).toString("base64");
    const adminToken = `bench-admin-${randomBytes(16).toString("hex")}`;
    execFileSync("pnpm", ["-s", "build:server"], { stdio: "inherit" });
    const serverOptions = { redisUrl: REDIS_URL, masterKey, adminToken, workDir };
    log(`starting the server (log ${workDir}/server.log)`);
    const { server, origin, command } = await startBenchServer({
      ...serverOptions,
      databaseUrl: benchDatabaseUrl(),
      logName: "server.log",
      nodeFlags: args.cpuProf ? ["--cpu-prof", `--cpu-prof-dir=${join(workDir, "profile")}`] : [],
    });
    memory = sampleMemory(server.pid);
    const serverMemory = memory;
    setServerRssProbe(() => serverMemory.phasePeakMiB());
    const rssAtStart = memory.read();
    report.server = {
      command,
      pid: server.pid,
      logLevel: "warn",
      databasePoolMax: process.env.DATABASE_POOL_MAX ?? "default (10)",
      rateLimitPerSecond: Number(process.env.BENCH_RATE_LIMIT ?? 1_000_000),
      redisUrl: REDIS_URL,
      log: server.logPath,
      rssAfterStartMiB: rssAtStart.maxSampledRssMiB,
    };

    let bareOrigin: string | undefined;
    if (args.only.has("bare")) {
      const barePort = await freePort();
      bareOrigin = `http://127.0.0.1:${barePort}`;
      const bare = startNode(["--import", "tsx", "test/bench/bare-koa.ts"], { ...process.env, NODE_ENV: "production", PORT: String(barePort) }, join(workDir, "bare.log"));
      setCpuRole(bare.pid, "bare");
      await waitForHttp200(`${bareOrigin}/healthz`, bare);
      log(`bare Koa baseline on ${bareOrigin}`);
    }

    const dbA = await connectBench();
    const dbB = await connectBench();
    dbs.push(dbA, dbB);
    report.machine = { ...(await machineInfo()), postgres: await postgresInfo(dbA) };

    log(`setup through the API: tenant, app, ${profile.dids} DIDs`);
    const setupStart = performance.now();
    const tenant = await setupTenant(origin, adminToken, profile.dids);
    report.setup = { tenantId: tenant.tenantId, appId: tenant.appId, dids: tenant.dids.length, ms: Math.round(performance.now() - setupStart) };
    const keys = createKeyring(parseMasterKey(masterKey));
    const preloadState = newPreloadState();
    const createPeople: CreatePeopleState = { next: 0 };
    const env = { origin, db: dbA, tenant, timing: profile.timing, log };

    let loaded = 0;
    const levelsWanted = ["bare", "answer", "create", "events"].some((x) => args.only.has(x));
    for (const target of levelsWanted ? profile.levels : []) {
      assertAlive(server, "the server");
      const label = scaleLabel(target);
      log(`level ${label}: preloading ${(target - loaded).toLocaleString("en-US")} sessions (COPY, real keyring)`);
      const preload = await preloadSessions(dbA, dbB, keys, tenant, target - loaded, preloadState, profile.preload);
      loaded = target;
      log(
        `  preloaded ${preload.sessions.toLocaleString("en-US")} sessions / ${preload.participants.toLocaleString("en-US")} participants ` +
          `in ${(preload.totalMs / 1000).toFixed(1)} s (${preload.sessionsPerSecond.toLocaleString("en-US")}/s, vacuum+analyze ${(preload.vacuumAnalyzeMs / 1000).toFixed(1)} s)`,
      );
      const level: LevelReport = {
        targetSessions: target,
        liveSessions: await scalar<number>(dbA, "select count(*) from sessions where tenant_id = $1 and status = 'open' and expires_at > now()", [tenant.tenantId]),
        preload,
      };
      report.levels.push(level);
      const levelMemory = memory;

      await measureLevel({
        level,
        report,
        server,
        bareOrigin,
        env,
        keys,
        routes: preloadState.routes,
        createPeople,
        profile,
        half: !args.noHalf,
        only: args.only,
        warmUp: report.levels.length === 1,
      });
      level.serverMemory = levelMemory.read();
    }

    if (args.only.has("events") && loaded > 0) {
      try {
        const events = await measureEventsOverhead(env, preloadState.routes, profile.answer);
        report.events = events;
        log(
          `  events: answers/s without ${Math.round(events.withoutBefore.okPerSecond)} → with two endpoints ` +
            `${Math.round(events.withEndpoints.okPerSecond)} → without ${Math.round(events.withoutAfter.okPerSecond)} ` +
            `(ratio ${events.ratio.toFixed(3)}); ${events.deliveriesReceived}/${events.deliveriesExpected} deliveries, drained ${events.drainMs} ms after the run`,
        );
      } catch (err) {
        const message = `events phase: ${err instanceof Error ? err.message : String(err)}`;
        report.errors.push(message);
        log(`  FAILED ${message}`);
      }
    }

    log("stopping the server");
    await stopProcess(server.child);
    report.memory = memory.read();
    memory.stop();
    if (args.only.has("growth")) {
      try {
        report.growth = await runGrowthPhase(serverOptions, keys, profile, log);
      } catch (err) {
        const message = `growth phase: ${err instanceof Error ? err.message : String(err)}`;
        report.errors.push(message);
        log(`  FAILED ${message}`);
      }
    }
    if (args.cpuProf) {
      const dir = join(workDir, "profile");
      // The main thread's profile is the largest (the tsx loader thread writes a small one too).
      const file = readdirSync(dir)
        .filter((f) => f.endsWith(".cpuprofile"))
        .sort((x, y) => statSync(join(dir, y)).size - statSync(join(dir, x)).size)[0];
      if (file) {
        const path = join(dir, file);
        report.profiles = [summariseProfile(path, "whole run")];
        for (const level of report.levels) {
          const windows: Array<[string, LoadResult | undefined]> = [
            ["answer saturation", level.answer?.saturation],
            ["create saturation", level.create?.saturation],
          ];
          for (const [what, loadResult] of windows) {
            if (loadResult) report.profiles.push(summariseProfile(path, `${what} @ ${scaleLabel(level.targetSessions)}`, loadResult.monotonicWindowUs));
          }
        }
        log(`server CPU profile: ${path}`);
      } else report.errors.push("--profile: the server wrote no .cpuprofile");
    }
  } catch (err) {
    report.errors.push(err instanceof Error ? err.stack ?? err.message : String(err));
    log(`FAILED: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    memory?.stop();
    if (!report.memory && memory) report.memory = memory.read();
    await stopAll();
    await Promise.all(dbs.map((db) => db.end().catch(() => undefined)));
    await lock?.release().catch(() => undefined);
  }

  report.notes.push(
    "Everything runs on one machine: the load generator, the server, PostgreSQL and Redis share its cores.",
    "Open-loop latencies are measured from each request's scheduled send time (no coordinated omission).",
    "Bare baseline = Koa + @koa/router + @koa/bodyparser (form) returning a fixed VobizXML string.",
  );
  const finishedAt = new Date();
  report.finishedAt = finishedAt.toISOString();
  report.durationSeconds = Math.round((finishedAt.getTime() - startedAt.getTime()) / 1000);
  report.checks = computeChecks(report);
  const files = writeReport(report, REPORT_DIR, args.complete);
  process.stdout.write(`\n${renderTable(report)}\n`);
  // The profile of the largest level's saturation windows: where the server's own time goes.
  const lastLabel = `@ ${scaleLabel(profile.levels[profile.levels.length - 1] ?? 0)}`;
  for (const p of (report.profiles ?? []).filter((p) => p.label.endsWith(lastLabel))) {
    process.stdout.write(`\nserver CPU, ${p.label} (busy ${p.totalMs} ms of ${p.wallMs} ms wall), by package:\n`);
    for (const x of p.byPackage.slice(0, 10)) process.stdout.write(`  ${x.share.toFixed(1).padStart(5)}%  ${x.name}\n`);
    process.stdout.write("top functions (self time):\n");
    for (const f of p.topFunctions.slice(0, 12)) process.stdout.write(`  ${f.share.toFixed(1).padStart(5)}%  ${f.name}  ${f.where}\n`);
    process.stdout.write("server functions, inclusive:\n");
    for (const f of p.inclusiveServer.slice(0, 15)) process.stdout.write(`  ${f.share.toFixed(1).padStart(5)}%  ${f.name}  ${f.where}\n`);
  }
  process.stdout.write(`\nreport: ${files.latest} (copy: ${files.stamped}); took ${report.durationSeconds} s\n`);
  if (report.errors.length) {
    process.stdout.write(`errors:\n${report.errors.map((e) => `  - ${e}`).join("\n")}\n`);
    process.exitCode = 1;
  }
}

void main();
