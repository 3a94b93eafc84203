import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../..");
const tsx = join(root, "node_modules/.bin/tsx");
const cleanEnv = () => {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
  return env;
};

// A first embedded start compiles the server with tsx, creates a database and runs every migration: about 10 s on
// an idle 2-core machine, several times that while the rest of the suite runs beside it.
function run(env: NodeJS.ProcessEnv, untilStdout?: RegExp, timeoutMs = 60_000) {
  const child = spawn(tsx, ["server/src/main.ts"], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise<{ code: number | null; stdout: string; stderr: string; child: typeof child }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out; stdout=${stdout} stderr=${stderr}`)), timeoutMs);
    if (untilStdout) {
      child.stdout.on("data", () => {
        if (untilStdout.test(stdout)) {
          clearTimeout(timer);
          resolve({ code: null, stdout, stderr, child });
        }
      });
    }
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, child });
    });
  });
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe("starting the service", () => {
  it("refuses to start with DATABASE_URL and no MASKLINE_MASTER_KEY, in one clear line", async () => {
    const { code, stderr, stdout } = await run({ ...cleanEnv(), DATABASE_URL: "postgres://127.0.0.1:1/none" });
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toMatch(/MASKLINE_MASTER_KEY is required when DATABASE_URL is set/);
  });

  it("names a wrong variable and exits", async () => {
    const { code, stderr } = await run({ ...cleanEnv(), PORT: "eighty" });
    expect(code).toBe(1);
    expect(stderr.trim()).toMatch(/^maskline: invalid configuration: PORT /);
  });

  it("starts embedded with nothing configured, prints the generated operator token once, stops on SIGTERM", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "maskline-start-"));
    dirs.push(dataDir);
    // PORT=0 needs a PUBLIC_BASE_URL; no webhook is called here, so any address will do.
    const env = {
      ...cleanEnv(),
      PORT: "0",
      PUBLIC_BASE_URL: "http://127.0.0.1:9",
      MASKLINE_DATA_DIR: dataDir,
      LOG_LEVEL: "warn",
    };
    const first = await run(env, /operator token[\s\S]*\n\n/);
    const token = /\n {4}(mk_admin_\S+)\n/.exec(first.stdout)?.[1];
    expect(token).toBeTruthy();
    const port = /running at http:\/\/localhost:(\d+)/.exec(first.stdout)![1];
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    const tenant = await fetch(`http://127.0.0.1:${port}/v1/admin/tenants`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "Startup" }),
    });
    expect(tenant.status).toBe(201);
    const secrets = join(dataDir, "secrets.json");
    expect(statSync(secrets).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(secrets, "utf8")).adminToken).toBe(token);
    // Where to find the reference and the probes, and where local tools find this instance (any port).
    expect(first.stdout).toContain(`http://localhost:${port}/docs`);
    expect(first.stdout).toContain(`http://localhost:${port}/readyz`);
    const address = join(dataDir, "server.json");
    expect(JSON.parse(readFileSync(address, "utf8"))).toEqual({ url: `http://localhost:${port}`, pid: expect.any(Number) });
    const exited = new Promise<number | null>((resolve) => first.child.on("exit", resolve));
    first.child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(existsSync(address)).toBe(false);

    const second = await run(env, /running at/);
    expect(second.stdout).not.toContain(token!);
    second.child.kill("SIGTERM");
  }, 150_000); // two starts, each bounded by run()'s own limit
});
