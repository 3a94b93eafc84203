/**
 * `pnpm screenshots`: starts the service (test harness, embedded unless DATABASE_URL is set) with its job runner,
 * fills it with a small, realistic demo through the public API and the carrier simulator (tenants, apps, pools,
 * sessions, bridged and refused calls, a recording, event deliveries that fail and succeed), then drives the console
 * in headless Chromium and writes PNGs of its main pages to docs/screenshots/. The README shows them.
 *
 * The people's numbers are made up (fixtures' `people`); the pages show them masked, like everything in the console.
 */
import { mkdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { startTestServer, type TestServer } from "../support/harness.js";
import { AUTH_TOKEN, people, uniqueDids, type Schemas } from "../support/fixtures.js";
import { VobizRestServer } from "../sim/vobiz-rest-server.js";
import { VobizSimulator } from "../sim/vobiz-simulator.js";
import { startJobRunner } from "../../server/src/jobs/index.js";
import { launchConsoleBrowser } from "./browser.js";

const OUT = join(new URL("../../docs/screenshots/", import.meta.url).pathname);

/** An event receiver that refuses every other delivery with a 500, so the deliveries page has failures to show. */
async function flakyReceiver(): Promise<{ url: string; server: Server }> {
  let n = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(n++ % 2 === 0 ? 204 : 500).end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/maskline/events`, server };
}

async function call<T>(server: TestServer, path: string, init: { method?: string; apiKey?: string; admin?: boolean; json?: unknown }, status: number): Promise<T> {
  const res = await server.request(path, {
    method: init.method ?? "GET",
    ...(init.apiKey ? { apiKey: init.apiKey } : {}),
    ...(init.admin ? { headers: { authorization: `Bearer ${server.adminToken}` } } : {}),
    ...(init.json !== undefined ? { json: init.json } : {}),
  });
  const text = await res.text();
  if (res.status !== status) throw new Error(`${init.method ?? "GET"} ${path}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

async function seed(server: TestServer, rest: VobizRestServer, receiverUrl: string) {
  for (const name of ["Northwind Deliveries", "Lakeside Clinic"]) await call(server, "/v1/admin/tenants", { method: "POST", admin: true, json: { name } }, 201);
  const acme = await call<Schemas["CreateTenantResponse"]>(server, "/v1/admin/tenants", { method: "POST", admin: true, json: { name: "Acme Rides" } }, 201);
  const apiKey = acme.apiKey.secret;
  await call(server, "/v1/api-keys", { method: "POST", apiKey, json: { name: "dispatch service" } }, 201);
  const app = await call<Schemas["App"]>(server, "/v1/apps", { method: "POST", apiKey, json: { name: "Acme Rides (Vobiz)", vobizAuthId: "MA_TEST", vobizAuthToken: AUTH_TOKEN } }, 201);
  await call(server, "/v1/numbers", { method: "POST", apiKey, json: { appId: app.id, pool: "riders", numbers: uniqueDids(4) } }, 201);
  await call(server, "/v1/numbers", { method: "POST", apiKey, json: { appId: app.id, pool: "couriers", numbers: uniqueDids(2) } }, 201);
  const endpoint = await call<Schemas["WebhookEndpointWithSecret"]>(server, "/v1/webhook-endpoints", { method: "POST", apiKey, json: { url: receiverUrl, description: "Dispatch events" } }, 201);

  const carrier = new VobizSimulator({ authToken: AUTH_TOKEN, answerUrl: app.answerUrl, hangupUrl: app.hangupUrl });
  const [busyDriver, ...riders] = people(9) as [string, ...string[]];
  const sessions: Schemas["Session"][] = [];
  // One driver in three trips at once: the riders pool's busiest person.
  for (let i = 0; i < 3; i++) {
    sessions.push(
      await call<Schemas["Session"]>(server, "/v1/sessions", {
        method: "POST",
        apiKey,
        json: { pool: "riders", reference: `trip-${4711 + i}`, recording: i === 0, ttlSeconds: 3600 * (i + 1), participants: [{ number: riders[i]!, label: "rider" }, { number: busyDriver, label: "driver" }] },
      }, 201),
    );
  }
  const courier = await call<Schemas["Session"]>(server, "/v1/sessions", {
    method: "POST",
    apiKey,
    json: { pool: "couriers", reference: "parcel-88412", mode: "one_way", participants: [{ number: riders[3]!, label: "courier" }, { number: riders[4]!, label: "customer" }] },
  }, 201);

  // The same courier on a second parcel: the couriers pool's busiest person is at its two numbers, so it is full.
  await call(server, "/v1/sessions", {
    method: "POST",
    apiKey,
    json: { pool: "couriers", reference: "parcel-88413", participants: [{ number: riders[3]!, label: "courier" }, { number: riders[7]!, label: "customer" }] },
  }, 201);

  // Calls: bridged (one recorded), a stranger refused, a one-way session called from the wrong side, a closed session.
  const first = sessions[0]!;
  const bridged = await carrier.placeCall({ from: riders[0]!, to: first.participants[0]!.proxyNumber });
  await carrier.postRecording(bridged, rest, { durationMs: 94_000 });
  await carrier.completeCall(bridged, { dialStatus: "completed", durationSeconds: 94 });
  const back = await carrier.placeCall({ from: busyDriver, to: first.participants[1]!.proxyNumber });
  await carrier.completeCall(back, { dialStatus: "completed", durationSeconds: 31 });
  const second = await carrier.placeCall({ from: busyDriver, to: sessions[1]!.participants[1]!.proxyNumber });
  await carrier.completeCall(second, { dialStatus: "no-answer" });
  await carrier.completeCall(await carrier.placeCall({ from: riders[5]!, to: first.participants[0]!.proxyNumber }));
  await carrier.completeCall(await carrier.placeCall({ from: riders[4]!, to: courier.participants[1]!.proxyNumber }));
  const closed = await call<Schemas["Session"]>(server, "/v1/sessions", {
    method: "POST",
    apiKey,
    json: { pool: "riders", reference: "trip-4699", participants: [{ number: riders[6]!, label: "rider" }, { number: riders[7]!, label: "driver" }] },
  }, 201);
  await call(server, `/v1/sessions/${closed.id}/close`, { method: "POST", apiKey }, 200);
  await carrier.completeCall(await carrier.placeCall({ from: riders[6]!, to: closed.participants[0]!.proxyNumber }));
  return { apiKey, endpointId: endpoint.id, firstSessionId: first.id, tenantId: acme.tenant.id };
}

async function shot(page: Page, name: string) {
  await page.locator(".loading").first().waitFor({ state: "detached" }).catch(() => undefined);
  await page.waitForTimeout(250);
  await page.screenshot({ path: join(OUT, `${name}.png`), fullPage: true });
  process.stdout.write(`  docs/screenshots/${name}.png\n`);
}

async function main() {
  mkdirSync(OUT, { recursive: true });
  const rest = await VobizRestServer.start({ accounts: [{ authId: "MA_TEST", authToken: AUTH_TOKEN }] });
  const receiver = await flakyReceiver();
  const server = await startTestServer({ env: { VOBIZ_API_BASE_URL: rest.baseUrl, MASKLINE_WEBHOOK_ALLOW_PRIVATE: "true", LOG_LEVEL: "warn" } });
  const jobs = await startJobRunner(server.deps);
  const browser = await launchConsoleBrowser();
  try {
    const demo = await seed(server, rest, receiver.url);
    // Deliveries go out through the outbox and the job runner: give them a few seconds.
    await new Promise((r) => setTimeout(r, 6000));
    const console = `${server.baseUrl}/console`;

    const w = await browser.newPage({ width: 1360, height: 860 });
    await w.page.goto(`${console}/`);
    await w.page.getByRole("heading", { level: 1, name: "Sign in to the console" }).waitFor();
    await shot(w.page, "sign-in");
    await w.page.getByLabel("API key or operator token").fill(demo.apiKey);
    await w.page.getByRole("button", { name: "Sign in" }).click();
    await w.page.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
    await w.page.getByRole("img", { name: /Calls today by decision/ }).waitFor();
    await shot(w.page, "overview");
    for (const [path, name, title] of [
      ["/sessions", "sessions", "Sessions"],
      [`/sessions/${demo.firstSessionId}`, "session", "Session trip-4711"],
      ["/calls", "calls", "Calls"],
      ["/numbers", "numbers", "Numbers and pools"],
      ["/apps", "apps", "Apps"],
      ["/keys", "keys", "API keys"],
      [`/webhooks/${demo.endpointId}`, "webhook-deliveries", "Webhook endpoint"],
      ["/audit", "audit-log", "Audit log"],
    ] as const) {
      await w.page.goto(`${console}${path}`);
      await w.page.getByRole("heading", { level: 1, name: title }).waitFor();
      await shot(w.page, name);
    }
    const phone = await browser.newPage({ width: 390, height: 844 });
    await phone.page.goto(`${console}/`);
    await phone.page.getByLabel("API key or operator token").fill(demo.apiKey);
    await phone.page.getByRole("button", { name: "Sign in" }).click();
    await phone.page.getByRole("img", { name: /Calls today by decision/ }).waitFor();
    await shot(phone.page, "overview-phone");

    const op = await browser.newPage({ width: 1360, height: 860 });
    await op.page.goto(`${console}/`);
    await op.page.getByLabel("API key or operator token").fill(server.adminToken);
    await op.page.getByRole("button", { name: "Sign in" }).click();
    await op.page.getByRole("heading", { level: 1, name: "Tenants" }).waitFor();
    await shot(op.page, "operator-tenants");
    await op.page.goto(`${console}/tenants/${demo.tenantId}`);
    await op.page.getByRole("table", { name: "The tenant's API keys" }).waitFor();
    await shot(op.page, "operator-tenant");
    const problems = [...w.problems, ...phone.problems, ...op.problems];
    if (problems.length) throw new Error(`the console reported problems while being photographed:\n${problems.join("\n")}`);
  } finally {
    await browser.close();
    await jobs.stop();
    await server.stop();
    await rest.close();
    receiver.server.close();
  }
}

await main();
