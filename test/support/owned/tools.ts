/**
 * Which binaries the owned services need, and what to do when they are missing. This is the only place that
 * decides it:
 *   - under CI (`CI` set) a missing binary fails the run loudly: CI must exercise the fault suite, never skip it;
 *   - elsewhere, as root with apt-get, the Debian packages are installed once (a lock folder makes parallel test
 *     files wait for one install instead of fighting over dpkg's lock);
 *   - otherwise the fault files are skipped with a message naming what is missing.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { processAlive, runCommand } from "./processes.js";

export interface AvailableTools {
  available: true;
  redisServer: string;
  /** The bin folder of the highest PostgreSQL under /usr/lib/postgresql (initdb, pg_ctl, postgres). */
  pgBin: string;
  /** Set when running as root: initdb refuses root, so the cluster runs as this OS user through runuser. */
  postgresUser: string | undefined;
}
export interface MissingTools {
  available: false;
  missing: string[];
  why: string;
}
export type OwnedTools = AvailableTools | MissingTools;

const PG_ROOT = "/usr/lib/postgresql";
const INSTALL_LOCK = join(tmpdir(), "maskline-owned-services-install.lock");
const INSTALL_TIMEOUT_MS = 10 * 60_000;
const isRoot = () => process.getuid?.() === 0;

function onPath(binary: string): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(":"), "/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin"];
  for (const dir of dirs) {
    if (dir && existsSync(join(dir, binary))) return join(dir, binary);
  }
  return undefined;
}

function highestPostgresBin(): string | undefined {
  if (!existsSync(PG_ROOT)) return undefined;
  const versions = readdirSync(PG_ROOT)
    .filter((v) => /^\d+(\.\d+)?$/.test(v))
    .filter((v) => ["initdb", "pg_ctl", "postgres"].every((b) => existsSync(join(PG_ROOT, v, "bin", b))))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(PG_ROOT, versions[0], "bin");
}

function osUserExists(name: string): boolean {
  try {
    execFileSync("id", ["-u", name], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** What is installed now, and the Debian package that provides each missing piece. */
function locate(): { tools?: AvailableTools; missing: Array<{ what: string; pkg: string }> } {
  const missing: Array<{ what: string; pkg: string }> = [];
  const redisServer = onPath("redis-server");
  if (!redisServer) missing.push({ what: "redis-server", pkg: "redis-server" });
  const pgBin = highestPostgresBin();
  if (!pgBin) missing.push({ what: `initdb/pg_ctl under ${PG_ROOT}/*/bin`, pkg: "postgresql" });
  let postgresUser: string | undefined;
  if (isRoot()) {
    postgresUser = "postgres";
    if (!osUserExists("postgres")) missing.push({ what: "the postgres OS user (initdb refuses root)", pkg: "postgresql" });
    if (!onPath("runuser")) missing.push({ what: "runuser", pkg: "util-linux" });
  }
  if (missing.length > 0 || !redisServer || !pgBin) return { missing };
  return { tools: { available: true, redisServer, pgBin, postgresUser }, missing };
}

/** One install across parallel test processes: whoever creates the lock folder installs, the others wait. */
async function installOnce(packages: string[]): Promise<void> {
  const deadline = Date.now() + INSTALL_TIMEOUT_MS;
  for (;;) {
    try {
      mkdirSync(INSTALL_LOCK);
      break;
    } catch {
      // Someone else is installing; take the lock over only if its owner died.
      let owner = NaN;
      try {
        owner = Number(readFileSync(join(INSTALL_LOCK, "pid"), "utf8"));
      } catch {
        // not written yet
      }
      if (Number.isInteger(owner) && !processAlive(owner)) rmSync(INSTALL_LOCK, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`another test process held ${INSTALL_LOCK} for ${INSTALL_TIMEOUT_MS} ms`);
      else await sleep(500);
      if (!existsSync(INSTALL_LOCK)) return; // the other install finished: the caller re-checks what is there
    }
  }
  try {
    writeFileSync(join(INSTALL_LOCK, "pid"), String(process.pid));
    if (locate().missing.length === 0) return; // installed by a process that finished just before we locked
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    process.stderr.write(`[owned services] installing ${packages.join(" ")} from Debian's packages (once)\n`);
    await runCommand("apt-get", ["update", "-qq"], { env, timeoutMs: INSTALL_TIMEOUT_MS });
    await runCommand("apt-get", ["install", "-y", "-qq", ...packages], { env, timeoutMs: INSTALL_TIMEOUT_MS });
  } finally {
    rmSync(INSTALL_LOCK, { recursive: true, force: true });
  }
}

async function resolveTools(): Promise<OwnedTools> {
  let found = locate();
  if (found.tools) return found.tools;
  const names = () => found.missing.map((m) => m.what);
  if (process.env.CI) {
    throw new Error(
      `fault suite: missing ${names().join(", ")}. CI must provide them (apt-get install ${[...new Set(found.missing.map((m) => m.pkg))].join(" ")}); ` +
        "under CI the fault tests fail instead of skipping.",
    );
  }
  if (isRoot() && onPath("apt-get")) {
    try {
      await installOnce([...new Set(found.missing.map((m) => m.pkg))]);
    } catch (err) {
      return { available: false, missing: names(), why: `installing them failed: ${(err as Error).message.split("\n")[0]}` };
    }
    found = locate();
    if (found.tools) return found.tools;
  }
  return {
    available: false,
    missing: names(),
    why: `missing ${names().join(", ")} (install redis-server and postgresql, or run as root with apt-get to have them installed)`,
  };
}

let resolved: Promise<OwnedTools> | undefined;

/** The binaries the owned services use; installs them once when allowed (see the module comment). */
export function ownedTools(): Promise<OwnedTools> {
  resolved ??= resolveTools();
  return resolved;
}

/** For the starters: the tools, or a clear error when a caller forgot to skip. */
export async function requireOwnedTools(): Promise<AvailableTools> {
  const tools = await ownedTools();
  if (!tools.available) throw new Error(`owned services unavailable: ${tools.why}`);
  return tools;
}
