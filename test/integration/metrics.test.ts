/**
 * `GET /metrics` (docs/operating.md, "Metrics"): Prometheus text that a Prometheus parser reads, behind
 * MASKLINE_METRICS_TOKEN when it is set, whose counters move as traffic is driven (requests per operation, call
 * decisions, event deliveries), whose gauges show the job queue and pool headroom per pool, and in which no phone
 * number ever appears, not even a pool named like one.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/harness.js";
import { expectNoRealNumbers } from "../support/privacy.js";
import { AUTH_TOKEN, createSession, people, tenantWithPool, uniqueDids, type Schemas } from "../support/fixtures.js";
import { VobizSimulator } from "../sim/vobiz-simulator.js";
import { createJobRunner } from "../../server/src/jobs/runner.js";
import { createJobRegistry } from "../../server/src/jobs/kinds.js";
import { webhookDeliveryJob } from "../../server/src/jobs/webhook-delivery.js";
import { poolGaugesJob } from "../../server/src/jobs/pool-gauges.js";
import { createOwnDatabase } from "../support/own-database.js";

interface Family {
  name: string;
  type: string;
  metrics: Array<{ labels?: Record<string, string>; value?: string; buckets?: Record<string, string>; count?: string }>;
}
const parsePrometheus = createRequire(import.meta.url)("parse-prometheus-text-format") as (text: string) => Family[];

const TOKEN = "metrics-token-0123456789abcdef";
let server: TestServer;
let receiver: Server;
let received = 0;
const realNumbers: string[] = [];

beforeAll(async () => {
  server = await startTestServer({ env: { MASKLINE_METRICS_TOKEN: TOKEN, MASKLINE_WEBHOOK_ALLOW_PRIVATE: "true" } });
  receiver = createServer((req, res) =>
    req.resume().on("end", () => {
      received += 1;
      res.writeHead(204).end();
    }),
  );
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
});
afterAll(async () => {
  await new Promise<void>((resolve) => receiver?.close(() => resolve()));
  await server?.stop();
});

async function scrape(): Promise<{ text: string; families: Map<string, Family> }> {
  const res = await server.request("/metrics", { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  return { text, families: new Map(parsePrometheus(text).map((f) => [f.name, f])) };
}

function histogramCount(text: string, operation: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`maskline_http_request_duration_seconds_count{operation="${operation}"}`));
  return line ? Number(line.split(" ").at(-1)) : 0;
}

/** The value of a counter or gauge with (at least) these labels; 0 when it has not appeared yet. */
function valueOf(families: Map<string, Family>, name: string, labels: Record<string, string>): number {
  const family = families.get(name);
  const sample = family?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  return sample ? Number(sample.value ?? sample.count ?? 0) : 0;
}

describe("GET /metrics", () => {
  it("needs the metrics token when one is set, and answers the same 401 problem without it", async () => {
    for (const authorization of [undefined, "Bearer wrong-token-0000000000000", `Basic ${TOKEN}`]) {
      const res = await server.request("/metrics", { headers: authorization ? { authorization } : {} });
      expect(res.status).toBe(401);
      expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
      expect(((await res.json()) as { code: string }).code).toBe("unauthorized");
    }
  });

  it("parses as Prometheus text, and its request, decision and delivery counters move with the traffic", async () => {
    const t = await tenantWithPool(server, { dids: 2 });
    const before = await scrape();
    const [a, b, stranger] = people(3);
    realNumbers.push(a!, b!, stranger!);
    const res = await createSession(server, t.apiKey, { participants: [{ number: a }, { number: b }] });
    const session = (await res.json()) as Schemas["Session"];
    const sim = new VobizSimulator({ authToken: AUTH_TOKEN, answerUrl: t.app.answerUrl, hangupUrl: t.app.hangupUrl });
    expect((await sim.placeCall({ from: a!, to: session.participants[0]!.proxyNumber })).kind).toBe("dial");
    expect((await sim.placeCall({ from: stranger!, to: session.participants[0]!.proxyNumber })).kind).toBe("reject");
    // An event delivered to a receiver: the endpoint is registered, the session's event redelivered to it.
    await server.request("/v1/webhook-endpoints", {
      method: "POST",
      apiKey: t.apiKey,
      json: { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook` },
    });
    const events = (await (await server.request("/v1/events?type=session.created", { apiKey: t.apiKey })).json()) as { data: Array<{ id: string }> };
    await server.request(`/v1/events/${events.data[0]!.id}/redeliver`, { method: "POST", apiKey: t.apiKey });
    const runner = createJobRunner(server.deps, createJobRegistry([webhookDeliveryJob]));
    // On a shared database other files' deliveries are due too: run until this one has arrived.
    const deadline = Date.now() + 30_000;
    while (received === 0 && Date.now() < deadline) await runner.runDue(5);
    await runner.stop();
    expect(received).toBeGreaterThanOrEqual(1);

    const after = await scrape();
    const moved = (name: string, labels: Record<string, string>) =>
      valueOf(after.families, name, labels) - valueOf(before.families, name, labels);
    expect(moved("maskline_http_requests_total", { operation: "sessions.create", method: "POST", status: "201" })).toBe(1);
    expect(moved("maskline_http_requests_total", { operation: "vobiz.answer", method: "POST", status: "200" })).toBe(2);
    // The parser folds a labelled histogram into one sample, so its per-operation count is read off the text.
    expect(histogramCount(after.text, "sessions.create") - histogramCount(before.text, "sessions.create")).toBe(1);
    expect(moved("maskline_call_decisions_total", { decision: "bridged", flow: "answer" })).toBe(1);
    expect(moved("maskline_call_decisions_total", { decision: "rejected_unknown_caller", flow: "answer" })).toBe(1);
    expect(moved("maskline_event_deliveries_total", { outcome: "succeeded" })).toBeGreaterThanOrEqual(1);
    expect(after.families.get("maskline_http_request_duration_seconds")?.type).toBe("HISTOGRAM");
    expect(after.families.has("maskline_process_cpu_user_seconds_total")).toBe(true);
    // A path the spec has not is one bounded label, never the path.
    await server.request("/no/such/path/+919812345678");
    const unmatched = (await scrape()).families;
    expect(valueOf(unmatched, "maskline_http_requests_total", { operation: "unmatched", status: "404" })).toBeGreaterThanOrEqual(1);
  });

  it("shows the job queue and the fullest pools' headroom from the metrics.pools job, with no phone number even in a pool named like one", async () => {
    // The pool gauges are every tenant's: this test counts them, so it runs on a database of its own.
    const database = await createOwnDatabase("maskline_metrics");
    const own = await startTestServer({ env: { MASKLINE_METRICS_TOKEN: TOKEN, ...(database.url ? { DATABASE_URL: database.url } : {}) } });
    try {
      const phoneLikePool = "919812345678";
      const t = await tenantWithPool(own, { dids: 3, pool: phoneLikePool });
      const full = await tenantWithPool(own, { dids: 1 });
      // 50 numbers with 8-digit PINs: 2.5 × 10^9 sessions of PIN headroom, past a 32-bit integer. And a pool name
      // with a number glued to a word, which the log scrubber keeps as an identifier but a label must not.
      const gluedPool = "rider_919812345678";
      const wide = await tenantWithPool(own, { dids: 50, pool: gluedPool });
      const settings = await own.request("/v1/settings", { method: "PATCH", apiKey: wide.apiKey, json: { pinLength: 8 } });
      expect(settings.status).toBe(200);
      // A number split by a separator after a word: neither half is phone-shaped alone.
      const splitPool = "rider_98123-45678";
      const imported = await own.request("/v1/numbers", { method: "POST", apiKey: t.apiKey, json: { appId: t.app.id, numbers: uniqueDids(2), pool: splitPool } });
      expect(imported.status).toBe(201);
      // Figures left by an earlier pass for a tenant that has no number any more: the pass's end removes them.
      const gone = await own.createTenant();
      await own.deps.db("pool_gauges").insert({
        tenant_id: gone.tenantId, pool: "old", numbers: 1, busiest: 1, headroom: 0, utilisation: 1, pin_headroom: 0,
        computed_at: new Date(), pass: "an-earlier-pass",
      });
      const [a, b, c, d] = people(4);
      realNumbers.push(a!, b!, c!, d!);
      await createSession(own, t.apiKey, { participants: [{ number: a }, { number: b }], pool: phoneLikePool });
      await createSession(own, full.apiKey, { participants: [{ number: c }, { number: d }] });
      await own.request("/v1/erasures", { method: "POST", apiKey: t.apiKey, json: { number: people(1)[0] } });
      // The job sizes the pools (a scrape never does); a runner with that kind alone leaves the erasure queued.
      const runner = createJobRunner(own.deps, createJobRegistry([poolGaugesJob]));
      await runner.scheduleRecurring();
      expect(await runner.runDue()).toBeGreaterThanOrEqual(1);
      await runner.stop();

      const res = await own.request("/metrics", { headers: { authorization: `Bearer ${TOKEN}` } });
      const text = await res.text();
      const families = new Map(parsePrometheus(text).map((f) => [f.name, f]));
      expect(valueOf(families, "maskline_jobs", { kind: "privacy.erase", status: "queued" })).toBe(1);
      const pools = families.get("maskline_pool_headroom")!.metrics.filter((m) => m.labels?.tenant_id === t.tenantId && m.labels.pool !== "rider_*****-*5678");
      expect(pools).toHaveLength(1);
      expect(pools[0]!.labels!.pool).not.toBe(phoneLikePool);
      expect(pools[0]!.labels!.pool).toMatch(/\*/);
      expect(Number(pools[0]!.value)).toBe(2);
      expect(valueOf(families, "maskline_pool_utilisation", { tenant_id: t.tenantId })).toBeCloseTo(1 / 3);
      expect(valueOf(families, "maskline_pool_headroom", { tenant_id: full.tenantId })).toBe(0);
      expect(valueOf(families, "maskline_pool_pin_headroom", { tenant_id: wide.tenantId })).toBe(2_500_000_000);
      const widePool = families.get("maskline_pool_headroom")!.metrics.find((m) => m.labels?.tenant_id === wide.tenantId)!;
      expect(widePool.labels!.pool).toBe("rider_********5678");
      const split = families.get("maskline_pool_headroom")!.metrics.find((m) => m.labels?.tenant_id === t.tenantId && m.labels.pool !== pools[0]!.labels!.pool);
      expect(split?.labels!.pool).toBe("rider_*****-*5678");
      expect(families.get("maskline_pool_headroom")!.metrics.filter((m) => m.labels?.tenant_id === gone.tenantId)).toEqual([]);
      expect(valueOf(families, "maskline_pools", { state: "all" })).toBe(4);
      expect(valueOf(families, "maskline_pools", { state: "exhausted" })).toBe(1);
      expect(valueOf(families, "maskline_pools", { state: "nearly_exhausted" })).toBe(1);
      expect(valueOf(families, "maskline_pool_figures_age_seconds", {})).toBeLessThan(60);
      // The fullest pool comes first: the operator's alert reads the top of the list.
      const order = families.get("maskline_pool_utilisation")!.metrics.map((m) => m.labels!.tenant_id);
      expect(order.indexOf(full.tenantId)).toBeLessThan(order.indexOf(t.tenantId));
      expect(text).not.toContain(phoneLikePool);
      expect(text).not.toContain("919812345678");
      expect(text).not.toMatch(/98123.?45678/);
      expectNoRealNumbers(text, realNumbers);
    } finally {
      await own.stop();
      await database.drop();
    }
    expectNoRealNumbers((await scrape()).text, realNumbers);
  });
});
