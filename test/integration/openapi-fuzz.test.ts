/**
 * A fuzz test driven by the OpenAPI document: every operation (paths × methods) gets valid baselines generated from
 * its schemas and real fixtures, then mutations of its body, encoding, query, path ids, credentials and framing;
 * the carrier webhooks get the same over signed forms. The oracle is in test/support/fuzz/oracle.ts: no 5xx but a
 * 503 `unavailable`, every error a problem+json with our fields, webhooks answer parseable XML, nothing slower than
 * 5 s, no real number in a reply, no error logged by the server for the request, plus what a case expects itself.
 *
 * The carrier's REST side is the simulator (test/sim/vobiz-rest-server.ts), healthy all along: click-to-call places
 * real calls there and recordings stream and delete real audio, so a `502 carrier_error` (a documented answer when
 * the carrier refuses) must not happen in this run, and neither may the carrier refuse anything the server sends it.
 *
 * Failures are collected per operation and reported together, grouped by mutation class. The cases come from a
 * seeded PRNG: FUZZ_SEED=<n> reproduces a run's cases (fixture ids and DIDs are fresh each run); FUZZ_REPORT=<file>
 * also writes the failure classes as JSON; FUZZ_TRACE=<file> appends every case's status (coverage checks).
 */
import { appendFileSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, usingRealServices, type TestServer } from "../support/harness.js";
import { AUTH_TOKEN } from "../support/fixtures.js";
import { VobizRestServer } from "../sim/vobiz-rest-server.js";
import { createRng, seedFromEnv } from "../support/fuzz/prng.js";
import { listOperations } from "../support/fuzz/spec.js";
import { FUZZ_METRICS_TOKEN, buildWorld, type FuzzWorld } from "../support/fuzz/world.js";
import { planCases } from "../support/fuzz/plan.js";
import { runCases } from "../support/fuzz/runner.js";
import { ServerErrorLog } from "../support/fuzz/server-errors.js";
import { formatReport, reportRecords } from "../support/fuzz/report.js";
import { judge } from "../support/fuzz/oracle.js";
import type { FuzzCase } from "../support/fuzz/case.js";
import type { RawResult } from "../support/fuzz/raw-http.js";

const SEED = seedFromEnv(20_261_125);
// About 8,000 requests in all, eight in flight: a minute or so on two cores (Postgres), up to two (embedded).
const MAX_CASES_PER_OPERATION = Number(process.env.FUZZ_MAX_CASES ?? 220);
const CONCURRENCY = 8;

const operations = listOperations();
let server: TestServer;
let rest: VobizRestServer;
let world: FuzzWorld;
let errorLog: ServerErrorLog;
const totals = { requests: 0, ms: 0, serverStartMs: 0, fixturesMs: 0 };
const records: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  // The per-tenant rate limit would turn most of the run into 429s; it has its own tests.
  // So would the limit on calls placed per second, for click-to-call.
  const started = performance.now();
  rest = await VobizRestServer.start({ accounts: [{ authId: "MA_TEST", authToken: AUTH_TOKEN }] });
  // Private endpoint URLs allowed: the fuzzed endpoints point at a closed local port, and nothing delivers here.
  server = await startTestServer({
    env: {
      MASKLINE_RATE_LIMIT_PER_SECOND: "0",
      MASKLINE_CALLS_PER_SECOND: "0",
      LOG_LEVEL: "warn",
      MASKLINE_WEBHOOK_ALLOW_PRIVATE: "true",
      VOBIZ_API_BASE_URL: rest.baseUrl,
      MASKLINE_METRICS_TOKEN: FUZZ_METRICS_TOKEN,
      // Hundreds of wrong console sign-ins are part of the run; the per-address limit has its own test.
      MASKLINE_CONSOLE_SIGN_IN_ATTEMPTS: "0",
    },
  });
  totals.serverStartMs = performance.now() - started;
  world = await buildWorld(server, rest, createRng(SEED).fork("world"));
  totals.fixturesMs = performance.now() - started - totals.serverStartMs;
  errorLog = new ServerErrorLog(server.logs);
});

afterAll(async () => {
  const mode = usingRealServices.postgres ? "Postgres" : "embedded";
  process.stdout.write(
    `openapi-fuzz (${mode}, FUZZ_SEED=${SEED}): ${totals.requests} requests in ${(totals.ms / 1000).toFixed(1)} s ` +
      `(server start ${(totals.serverStartMs / 1000).toFixed(1)} s, fixtures ${(totals.fixturesMs / 1000).toFixed(1)} s)\n`,
  );
  if (process.env.FUZZ_REPORT)
    writeFileSync(process.env.FUZZ_REPORT, JSON.stringify({ seed: SEED, mode, ...totals, failures: records }, null, 2));
  await server?.stop();
  await rest?.close();
});

// A green fuzz run is only worth something if the oracle can fail: it is checked on replies made up for the purpose.
describe("the fuzz oracle", () => {
  const request = { method: "GET", path: "/", headers: [] };
  const api: FuzzCase = { operationId: "t", surface: "api", group: "t", kind: "t", detail: "t", request };
  const hook: FuzzCase = { ...api, surface: "webhook" };
  const reply = (status: number, headers: Record<string, string>, body: string, elapsedMs = 1): RawResult => ({
    ok: true,
    response: { status, headers, body: Buffer.from(body), elapsedMs },
  });
  const problem = (status: number, code: string, headers: Record<string, string> = {}, fields = {}) =>
    reply(
      status,
      { "content-type": "application/problem+json", ...headers },
      JSON.stringify({ type: "t", title: "t", status, detail: "t", code, requestId: "r", ...fields }),
    );
  const xml = (body: string) => reply(200, { "content-type": "application/xml" }, body);
  const viaCarrier: FuzzCase = { ...api, carrierErrors: true };

  it("accepts what the contract allows", () => {
    const allowed: Array<[FuzzCase, RawResult]> = [
      [api, reply(201, { "content-type": "application/json" }, "{}")],
      [api, problem(422, "validation_failed")],
      [api, problem(503, "unavailable")],
      [viaCarrier, problem(502, "carrier_error")],
      [hook, xml('<Response><Hangup reason="rejected"/></Response>')],
      [hook, problem(403, "forbidden")],
      [hook, problem(503, "unavailable", { "retry-after": "5" })],
    ];
    for (const [c, result] of allowed) expect(judge(c, result, []).violations).toEqual([]);
  });

  it("refuses 5xx, bare or malformed problems, bad XML, slowness, real numbers and unmet expectations", () => {
    const refused: Array<[FuzzCase, RawResult, string[]?]> = [
      [api, problem(500, "internal_error")],
      [api, problem(503, "internal_error")],
      [api, problem(502, "carrier_error")],
      [viaCarrier, problem(502, "internal_error")],
      [viaCarrier, problem(500, "internal_error")],
      [viaCarrier, problem(504, "carrier_error")],
      [{ ...viaCarrier, baseline: true }, problem(502, "carrier_error")],
      [api, reply(431, {}, "")],
      [api, reply(400, { "content-type": "application/json" }, "{}")],
      [api, problem(404, "NotFound")],
      [api, problem(404, "not_found", {}, { status: 400 })],
      [api, problem(404, "not_found", {}, { requestId: "" })],
      [api, reply(200, { "content-type": "application/json" }, "{}", 5200)],
      [api, { ok: false, error: "no complete response within 5500 ms", elapsedMs: 5500 }],
      [api, reply(200, { "content-type": "application/json" }, '{"n":"9812345678"}'), ["+919812345678"]],
      [{ ...api, expect: { status: [404], why: "t" } }, problem(403, "forbidden")],
      [{ ...api, baseline: true }, problem(422, "validation_failed")],
      [hook, xml("<Response><Dial>")],
      [hook, reply(200, { "content-type": "text/plain" }, "<Response/>")],
      [hook, problem(503, "unavailable")],
      [hook, problem(500, "internal_error")],
      [hook, reply(204, {}, "")],
    ];
    for (const [c, result, numbers] of refused) {
      expect(judge(c, result, numbers ?? []).violations, JSON.stringify(result).slice(0, 200)).not.toEqual([]);
    }
  });
});

describe("the OpenAPI document, fuzzed", () => {
  it("lists every operation once, each with a security scheme the fuzzer drives", () => {
    const ids = operations.map((op) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expect.arrayContaining(["sessions.create", "vobiz.answer", "admin.tenants.create"]));
  });

  for (const op of operations) {
    it(`${op.operationId}: ${op.method} ${op.pathTemplate}`, { timeout: 60_000 }, async () => {
      const cases = planCases(op, world, createRng(SEED).fork(op.operationId), MAX_CASES_PER_OPERATION);
      // Every operation is exercised, starting from a valid request.
      expect(cases.filter((c) => c.baseline).length, `${op.operationId} has no valid baseline`).toBeGreaterThan(0);
      const carrierSince = rest.requests.length;
      const run = await runCases(cases, {
        target: world.target,
        concurrency: CONCURRENCY,
        realNumbers: world.people,
        errors: errorLog,
      });
      totals.requests += run.sent;
      totals.ms += run.elapsedMs;
      if (process.env.FUZZ_TRACE) {
        appendFileSync(
          process.env.FUZZ_TRACE,
          run.outcomes.map((o) => `${op.operationId}\t${o.status}\t${o.kind}\t${o.detail.slice(0, 80)}\n`).join(""),
        );
      }
      const background = errorLog.takeUnattributed();
      // The carrier simulator is up and accepts every well-formed request: whatever it refused, the server sent it
      // wrong, and a 502 carrier_error (allowed by the oracle as the contract's answer to a refusal) cannot be right.
      const carrierRefusals = rest.requests
        .slice(carrierSince)
        .filter((r) => r.status !== undefined && r.status >= 400)
        .map((r) => `${r.method} ${r.path} → ${r.status}`);
      const carrierErrors = run.outcomes.filter((o) => o.status === "502");
      const carrierLines = [
        ...carrierRefusals.map((line) => `  ✗ the carrier simulator refused a request the server sent: ${line}`),
        ...carrierErrors.map(
          (o) => `  ✗ 502 although the carrier simulator is reachable: [${o.kind}] ${o.detail.slice(0, 80)}`,
        ),
      ];
      for (const line of carrierLines) records.push({ operationId: op.operationId, kind: "carrier", observed: line });
      records.push(...reportRecords(run.failures));
      for (const e of background)
        records.push({
          operationId: op.operationId,
          kind: "error logged outside any request",
          observed: e.msg,
          cause: e.cause,
        });
      const report = [
        run.failures.length ? formatReport(op.operationId, SEED, run.sent, run.failures) : "",
        ...background.map(
          (e) =>
            `  ✗ the server logged an error outside any request while ${op.operationId} was fuzzed: "${e.msg}" (${e.cause})`,
        ),
        ...carrierLines,
      ]
        .filter(Boolean)
        .join("\n");
      expect(run.failures.length + background.length + carrierLines.length, `\n${report}\n`).toBe(0);
    });
  }
});
