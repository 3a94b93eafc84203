/**
 * The `maskline` CLI against a started test server: in-process through run() (cli/src/run.ts) for each command, and
 * once as the built bin (cli/dist/main.js, built by `pnpm test`'s pretest).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Maskline } from "@maskline/sdk";
import { run } from "../../cli/src/run.js";
import { startTestServer, type TestServer } from "../support/harness.js";
import { AUTH_TOKEN, people, tenantWithPool, uniqueDids, type TenantFixture } from "../support/fixtures.js";
import { VobizSimulator } from "../sim/vobiz-simulator.js";

const root = join(import.meta.dirname, "../..");
let server: TestServer;
const dirs: string[] = [];
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** One command line, as the process would run it; env holds only what the test gives. */
async function cli(args: string[], env: Record<string, string> = {}) {
  let stdout = "";
  let stderr = "";
  const code = await run(args, { MASKLINE_DATA_DIR: "/nonexistent", ...env }, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}
const operatorEnv = () => ({ MASKLINE_URL: server.baseUrl, MASKLINE_ADMIN_TOKEN: server.adminToken });

describe("maskline (operator)", () => {
  it("creates a tenant with its first key, another key, and lists tenants, as a table or JSON", async () => {
    const created = await cli(["tenants", "create", "CLI Deliveries"], operatorEnv());
    expect(created.code).toBe(0);
    const [, tenantId] = /^tenant\s+(ten_\S+)\s+CLI Deliveries$/m.exec(created.stdout)!;
    const [, secret] = /^api key\s+\S+\s+(mk_live_\S+)$/m.exec(created.stdout)!;
    expect(created.stderr).toMatch(/shown only now/);
    expect((await new Maskline({ apiKey: secret!, baseUrl: server.baseUrl }).apiKeys.list()).data).toHaveLength(1);

    const key = await cli(["keys", "create", "--tenant", tenantId!, "--name", "ops", "--json"], operatorEnv());
    expect(key.code).toBe(0);
    expect(JSON.parse(key.stdout)).toMatchObject({ name: "ops", secret: expect.stringMatching(/^mk_live_/) });
    const { id: opsId, secret: opsSecret } = JSON.parse(key.stdout) as { id: string; secret: string };
    const revoked = await cli(["keys", "revoke", opsId, "--tenant", tenantId!], operatorEnv());
    expect(revoked).toMatchObject({ code: 0, stdout: `revoked  ${opsId}\n` });
    await expect(new Maskline({ apiKey: opsSecret, baseUrl: server.baseUrl }).apiKeys.list()).rejects.toMatchObject({ status: 401 });
    const unknown = await cli(["keys", "revoke", "key_00000000000000000000000000", "--tenant", tenantId!], operatorEnv());
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/not_found/);

    const listed = await cli(["tenants", "list", "--limit", "500", "--json"], operatorEnv());
    expect((JSON.parse(listed.stdout) as Array<{ id: string }>).map((t) => t.id)).toContain(tenantId);
    const table = await cli(["tenants", "list", "--limit", "1"], operatorEnv());
    expect(table.stdout.split("\n")[0]).toMatch(/^ID\s+NAME\s+CREATEDAT$/);
    expect(table.stdout.trim().split("\n")).toHaveLength(2);
  });

  it("finds an embedded service and its operator token in the data folder, on whatever port it runs", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "maskline-cli-"));
    dirs.push(dataDir);
    writeFileSync(join(dataDir, "server.json"), JSON.stringify({ url: server.baseUrl, pid: process.pid }));
    writeFileSync(join(dataDir, "secrets.json"), JSON.stringify({ adminToken: server.adminToken }));
    const listed = await cli(["tenants", "list", "--json"], { MASKLINE_DATA_DIR: dataDir });
    expect(listed.code).toBe(0);
    expect(Array.isArray(JSON.parse(listed.stdout))).toBe(true);
  });

  it("says what is wrong: usage errors exit 2, refusals from the service exit 1 with their code", async () => {
    expect((await cli(["tenants", "fly"], operatorEnv())).code).toBe(2);
    const noKey = await cli(["sessions", "list"], { MASKLINE_URL: server.baseUrl });
    expect([noKey.code, noKey.stderr]).toEqual([2, expect.stringMatching(/needs a tenant API key/)]);
    const badToken = await cli(["tenants", "list"], { MASKLINE_URL: server.baseUrl, MASKLINE_ADMIN_TOKEN: "wrong" });
    expect([badToken.code, badToken.stderr]).toEqual([1, expect.stringMatching(/401 unauthorized/)]);
    expect((await cli(["--help"])).code).toBe(0);
  });
});

describe("maskline numbers import", () => {
  it("imports 2,000 rows in batches and reports each: imported, duplicate, invalid, conflict, by line and masked number", async () => {
    const t = await tenantWithPool(server, { dids: 1 });
    const elsewhere = await tenantWithPool(server, { dids: 1 }); // its DID is held by another account
    // 1,996 DIDs nobody holds: random ones can meet the DIDs of earlier runs on a shared database (17,000 numbers
    // there make a collision among 1,996 draws likely), which would turn a row into a fifth "conflict".
    const drawn = uniqueDids(2100);
    const held = new Set(await server.deps.db("numbers").whereIn("e164", drawn).pluck("e164"));
    const fresh = drawn.filter((n) => !held.has(n)).slice(0, 1996);
    expect(fresh).toHaveLength(1996);
    const lines = [
      "did,label", // a header
      ...fresh.slice(0, 1000).map((n) => `${n},bulk`),
      `${fresh[3]},again`, // line 1002: repeats line 5
      "12ab,typo", // line 1003
      `"${t.dids[0]}",already`, // line 1004: in the pool before the import
      `${elsewhere.dids[0]},taken`, // line 1005
      ",empty", // line 1006
      ...fresh.slice(1000).map((n) => `${n},bulk`),
    ];
    const dir = mkdtempSync(join(tmpdir(), "maskline-cli-"));
    dirs.push(dir);
    const file = join(dir, "dids.csv");
    writeFileSync(file, lines.join("\n") + "\n");

    const env = { MASKLINE_URL: server.baseUrl, MASKLINE_API_KEY: t.apiKey };
    const result = await cli(["numbers", "import", file, "--app", t.app.id, "--batch-size", "700", "--json"], env);
    expect(result.code).toBe(1); // some rows were refused
    const { counts, rows } = JSON.parse(result.stdout) as {
      counts: Record<string, number>;
      rows: Array<{ line: number; number: string; result: string; reason: string | null }>;
    };
    expect(counts).toEqual({ imported: 1996, duplicate: 2, invalid: 2, conflict: 1 });
    const byLine = new Map(rows.map((r) => [r.line, r]));
    expect(byLine.get(1002)).toMatchObject({ result: "duplicate", reason: "same number as line 5" });
    expect(byLine.get(1003)).toMatchObject({ result: "invalid", number: "****" });
    expect(byLine.get(1004)).toMatchObject({ result: "duplicate", reason: "already in pool 'default'" });
    expect(byLine.get(1005)).toMatchObject({ result: "conflict", reason: "is held by another account" });
    expect(byLine.get(1006)).toMatchObject({ result: "invalid", reason: "no number in this row" });
    expect(byLine.get(2)).toEqual({ line: 2, number: `+91******${fresh[0]!.slice(-4)}`, result: "imported", reason: null });
    expect(result.stderr).toMatch(/2000\/2000 rows sent/); // the empty row is judged without a request
    // The report names rows by line and masked number; no number of the file appears whole.
    for (const n of [...fresh, t.dids[0]!, elsewhere.dids[0]!]) expect(result.stdout + result.stderr).not.toContain(n);

    const pool = await new Maskline({ apiKey: t.apiKey, baseUrl: server.baseUrl }).pools.get("default");
    expect(pool.numbers).toBe(1997);

    // Again, as a table: everything is already there now.
    const again = await cli(["numbers", "import", file, "--app", t.app.id], env);
    expect(again.stdout).toMatch(/^LINE\s+NUMBER\s+RESULT\s+REASON$/m);
    expect(again.stdout.trim().split("\n").at(-1)).toBe("imported 0, duplicate 1998, invalid 2, conflict 1");
  }, 120_000);
});

describe("maskline sessions and calls", () => {
  let t: TenantFixture;
  let sessionId: string;
  const [agent, customer] = people(2);
  beforeAll(async () => {
    t = await tenantWithPool(server, { dids: 2 });
    const maskline = new Maskline({ apiKey: t.apiKey, baseUrl: server.baseUrl });
    const session = await maskline.sessions.create({
      participants: [{ number: agent!, label: "agent" }, { number: customer!, label: "customer" }],
      reference: "order-cli-1",
    });
    sessionId = session.id;
    const carrier = new VobizSimulator({ authToken: AUTH_TOKEN, answerUrl: t.app.answerUrl, hangupUrl: t.app.hangupUrl });
    const call = await carrier.placeCall({ from: agent!, to: session.participants[0]!.proxyNumber });
    await carrier.completeCall(call, { dialStatus: "completed", durationSeconds: 30 });
  });
  const env = () => ({ MASKLINE_URL: server.baseUrl, MASKLINE_API_KEY: t.apiKey });

  it("lists sessions with masked participants only, filtered, as a table or JSON", async () => {
    const listed = await cli(["sessions", "list", "--reference", "order-cli-1"], env());
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^ID\s+STATUS\s+POOL\s+REFERENCE\s+PARTICIPANTS\s+EXPIRESAT$/m);
    expect(listed.stdout).toContain(sessionId);
    expect(listed.stdout).toMatch(/agent \+91\*+\d{4} via \+91/);
    expect(listed.stdout).not.toContain(agent);
    expect(listed.stdout).not.toContain(customer);
    const asJson = JSON.parse((await cli(["sessions", "list", "--status", "open", "--json"], env())).stdout) as Array<{ id: string }>;
    expect(asJson.map((s) => s.id)).toEqual([sessionId]);
    expect((await cli(["sessions", "list", "--status", "shut"], env())).code).toBe(2);
  });

  it("lists calls of a session, as a table or JSON", async () => {
    const listed = await cli(["calls", "list", "--session", sessionId], env());
    expect(listed.stdout).toMatch(/^ID\s+SESSIONID\s+PROXYNUMBER\s+DECISION\s+STATUS\s+DURATIONSECONDS\s+STARTEDAT$/m);
    expect(listed.stdout).toMatch(/bridged\s+completed\s+30/);
    const asJson = JSON.parse((await cli(["calls", "list", "--decision", "bridged", "--json"], env())).stdout) as Array<{ sessionId: string }>;
    expect(asJson.map((c) => c.sessionId)).toEqual([sessionId]);
    expect((await cli(["calls", "list", "--decision", "rejected_unknown_caller"], env())).stdout).toBe("(none)\n");
  });
});

describe("the built bin", () => {
  it("runs as `maskline` from cli/dist with the process's environment", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [join(root, "cli/dist/main.js"), "tenants", "list", "--limit", "1"], {
      env: { PATH: process.env.PATH, MASKLINE_URL: server.baseUrl, MASKLINE_ADMIN_TOKEN: server.adminToken, MASKLINE_DATA_DIR: "/nonexistent" },
    });
    expect(stdout).toMatch(/^ID\s+NAME\s+CREATEDAT\n\S+/);
  });
});
