/**
 * The web console end to end, in headless Chromium (Debian's, driven by playwright-core) against the real service
 * (test harness: Postgres and Redis in CI, embedded otherwise). What the issue asks the console to show: sign in with
 * a key; a session created through the API appears; closing it in the console is what the API then reports; numbers
 * imported by pasting and by a CSV file; a key created (its secret shown once) and revoked, after which a console
 * session opened with it is refused; the audit log read; the operator creates a tenant. Every page is checked with
 * axe-core (no serious or critical violation), and every page's HTML and every response it loaded for real numbers.
 * Any console error, uncaught exception, failed request or 5xx in the browser fails the test.
 */
/// <reference lib="dom" />
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { startTestServer, type TestServer } from "../support/harness.js";
import { AUTH_TOKEN, createSession, people, tenantWithPool, uniqueDids, type Schemas } from "../support/fixtures.js";
import { numberForms } from "../support/privacy.js";
import { VobizRestServer } from "../sim/vobiz-rest-server.js";
import { VobizSimulator } from "../sim/vobiz-simulator.js";
import { launchConsoleBrowser, type ConsoleBrowser, type WatchedPage } from "./browser.js";
import { seriousViolations } from "./axe.js";

let server: TestServer;
let rest: VobizRestServer;
let browser: ConsoleBrowser;
/** Every real person's number this file gave the API: none may appear in a page or in anything a page loaded. */
const realNumbers: string[] = [];
/** Pages checked with axe, for the closing test. */
const checkedPages = new Set<string>();

beforeAll(async () => {
  rest = await VobizRestServer.start({ accounts: [{ authId: "MA_TEST", authToken: AUTH_TOKEN }] });
  server = await startTestServer({ env: { VOBIZ_API_BASE_URL: rest.baseUrl, MASKLINE_WEBHOOK_ALLOW_PRIVATE: "true" } });
  const page = await server.request("/console");
  if (page.status !== 200) throw new Error(`the console is not built (GET /console answered ${page.status}): run \`pnpm build\` (pnpm test does)`);
  browser = await launchConsoleBrowser();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await rest?.close();
});

const url = (path = "/") => `${server.baseUrl}/console${path}`;

/** No console error, page error, failed request or 5xx so far, no real number in the page or what it loaded. */
async function expectClean(w: WatchedPage) {
  await w.settled();
  expect(w.problems, `browser problems: ${JSON.stringify(w.problems)}`).toEqual([]);
  const html = await w.page.content();
  const loaded = w.responses.map((r) => r.body).join("\n");
  for (const n of realNumbers) for (const form of numberForms(n)) {
    expect(html.includes(form), `a page shows a real number (${form.slice(0, 4)}…)`).toBe(false);
    expect(loaded.includes(form), `a response the console loaded holds a real number (${form.slice(0, 4)}…)`).toBe(false);
  }
}

/** axe on the page as it is; each page name once. */
async function expectAccessible(page: Page, name: string) {
  const violations = await seriousViolations(page);
  expect(violations, `${name}: serious accessibility violations: ${JSON.stringify(violations, null, 1)}`).toEqual([]);
  checkedPages.add(name);
}

async function heading(page: Page, name: string) {
  await page.getByRole("heading", { level: 1, name }).waitFor();
}

async function signInThroughPage(w: WatchedPage, credential: string, landing: string) {
  await w.page.goto(url("/"));
  await heading(w.page, "Sign in to the console");
  await w.page.getByLabel("API key or operator token").fill(credential);
  await w.page.getByRole("button", { name: "Sign in" }).click();
  await heading(w.page, landing);
}

/** Goes to a page by the navigation, as a user would, and waits for its heading. */
async function open(w: WatchedPage, link: string, title = link) {
  await w.page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: link, exact: true }).click();
  await heading(w.page, title);
  await w.page.locator(".loading").first().waitFor({ state: "detached" }).catch(() => undefined);
}

let tenant: { id: string; name: string; apiKey: string };

describe("the operator", { timeout: 90_000 }, () => {
  it("signs in with the operator token and creates a tenant, whose first key is shown once", async () => {
    // A tenant whose name holds nothing visible (the API takes any 1–200 characters): listed as "unnamed tenant", so
    // its link has a name (axe's link-name rule checks the page below).
    const blank = await server.request("/v1/admin/tenants", { method: "POST", headers: { authorization: `Bearer ${server.adminToken}` }, json: { name: " \u200b " } });
    expect(blank.status).toBe(201);
    const w = await browser.newPage();
    await w.page.goto(url("/"));
    await heading(w.page, "Sign in to the console");
    await expectAccessible(w.page, "sign-in");
    await w.page.getByLabel("API key or operator token").fill(server.adminToken);
    await w.page.getByRole("button", { name: "Sign in" }).click();
    await heading(w.page, "Tenants");
    await w.page.getByRole("link", { name: "unnamed tenant" }).first().waitFor();
    await expectAccessible(w.page, "operator: tenants");
    // A name of this run's own: on a shared database, earlier runs' tenants are listed too.
    const name = `Acme Rides ${Math.random().toString(36).slice(2, 8)}`;
    await w.page.getByLabel("Name").fill(name);
    await w.page.getByRole("button", { name: "Create tenant" }).click();
    const secret = (await w.page.locator(".secret code").textContent())!;
    expect(secret).toMatch(/^mk_live_/);
    await w.page.getByRole("link", { name }).click();
    await heading(w.page, `Tenant ${name}`);
    const id = (await w.page.locator(".page-header .mono").textContent())!;
    expect(id).toMatch(/^ten_/);
    await w.page.getByRole("table", { name: "The tenant's API keys" }).waitFor();
    // A second key, issued and then revoked by the operator (a leaked key): refused by the API at once.
    await w.page.getByLabel("Key name").fill("leaked");
    await w.page.getByRole("button", { name: "Issue key" }).click();
    const leaked = (await w.page.locator(".secret code").textContent())!;
    expect(leaked).toMatch(/^mk_live_/);
    const row = w.page.getByRole("row", { name: /leaked/ });
    await row.getByRole("button", { name: "Revoke" }).click();
    await row.getByRole("button", { name: "Yes, revoke" }).click();
    await w.page.getByText("Revoked leaked.").waitFor();
    await row.getByText("revoked", { exact: true }).waitFor();
    expect((await server.request("/v1/api-keys", { apiKey: leaked })).status).toBe(401);
    await expectAccessible(w.page, "operator: tenant");
    // The API agrees: the tenant exists, and the key shown works.
    const keys = await server.request("/v1/api-keys", { apiKey: secret });
    expect(keys.status).toBe(200);
    await open(w, "Audit log");
    await w.page.getByRole("cell", { name: "tenant.created" }).first().waitFor();
    await expectAccessible(w.page, "operator: audit log");
    await expectClean(w);
    tenant = { id, name, apiKey: secret };
    await w.context.close();
  });
});

describe("a tenant", { timeout: 90_000 }, () => {
  let w: WatchedPage;
  let session: Schemas["Session"];

  beforeAll(async () => {
    w = await browser.newPage();
  });
  afterAll(async () => w?.context.close());

  it("signs in with an API key; the key is kept nowhere in the browser", async () => {
    await signInThroughPage(w, tenant.apiKey, "Overview");
    const storage = await w.page.evaluate(() => JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage }, cookie: document.cookie }));
    expect(storage).not.toContain(tenant.apiKey.slice(8));
    expect(storage).toContain('"cookie":""'); // HttpOnly: no script sees the session cookie
    const cookies = await w.context.cookies();
    expect(cookies.map((c) => [c.name, c.httpOnly, c.sameSite])).toEqual([["maskline_console", true, "Strict"]]);
    expect(cookies[0]!.value).not.toContain(tenant.apiKey.slice(8));
    await expectAccessible(w.page, "overview (empty)");
    await expectClean(w);
  });

  it("registers an app and imports numbers by pasting them and by uploading a CSV file", async () => {
    await open(w, "Apps");
    await w.page.getByText("No apps yet").waitFor();
    await w.page.getByLabel("Name").fill("Rides app");
    await w.page.getByLabel("Vobiz auth id").fill("MA_TEST");
    await w.page.getByLabel("Vobiz auth token").fill(AUTH_TOKEN);
    await w.page.getByRole("button", { name: "Register app" }).click();
    await w.page.getByText("Registered Rides app").waitFor();
    await w.page.getByText("None yet").waitFor();
    await expectAccessible(w.page, "apps");

    await open(w, "Numbers and pools");
    const pasted = uniqueDids(2);
    await w.page.getByLabel("Pool", { exact: true }).fill("riders");
    await w.page.getByLabel("Numbers", { exact: true }).fill(pasted.join("\n"));
    await w.page.getByText("2 numbers ready to import.").waitFor();
    await w.page.getByRole("button", { name: "Import numbers" }).click();
    await w.page.getByText("Imported 2 numbers into pool riders.").waitFor();
    const csv = uniqueDids(2);
    await w.page.getByLabel("Or upload a CSV file").setInputFiles({ name: "dids.csv", mimeType: "text/csv", buffer: Buffer.from(`number,label\n${csv[0]},north\n${csv[1]},south\n`) });
    await w.page.getByText("2 numbers ready to import.").waitFor();
    await w.page.getByRole("button", { name: "Import numbers" }).click();
    await w.page.getByText("Imported 2 numbers into pool riders.").waitFor();
    await w.page.getByRole("cell", { name: csv[1]! }).waitFor();
    await expectAccessible(w.page, "numbers and pools");
    const listed = (await (await server.request("/v1/numbers?pool=riders", { apiKey: tenant.apiKey })).json()) as Schemas["NumberList"];
    expect(listed.data.map((n) => n.number).sort()).toEqual([...pasted, ...csv].sort());
    await expectClean(w);
  });

  it("sees a session created through the API, with its call timeline and recording, and closes it; the API agrees", async () => {
    const [rider, driver, stranger] = people(3) as [string, string, string];
    realNumbers.push(rider, driver, stranger);
    const created = await createSession(server, tenant.apiKey, {
      pool: "riders",
      reference: "trip-4711",
      recording: true,
      participants: [
        { number: rider, label: "rider" },
        { number: driver, label: "driver" },
      ],
    });
    expect(created.status).toBe(201);
    session = (await created.json()) as Schemas["Session"];
    // A call through the carrier, bridged and recorded; and a stranger's call to the same number, refused.
    const app = ((await (await server.request("/v1/apps", { apiKey: tenant.apiKey })).json()) as Schemas["AppList"]).data[0]!;
    const carrier = new VobizSimulator({ authToken: AUTH_TOKEN, answerUrl: app.answerUrl, hangupUrl: app.hangupUrl });
    const call = await carrier.placeCall({ from: rider, to: session.participants[0]!.proxyNumber });
    expect(call.kind).toBe("dial");
    expect((await carrier.postRecording(call, rest, { durationMs: 2_000 })).status).toBe(200);
    await carrier.completeCall(call, { dialStatus: "completed", durationSeconds: 64 });
    expect((await carrier.placeCall({ from: stranger, to: session.participants[1]!.proxyNumber })).kind).toBe("reject");

    await open(w, "Sessions");
    await w.page.getByRole("link", { name: session.id }).click();
    await heading(w.page, "Session trip-4711");
    await w.page.getByText("Connected to the other participant.").waitFor();
    await w.page.getByRole("button", { name: /Play recording/ }).click();
    await w.page.locator("audio").waitFor();
    await expectAccessible(w.page, "session detail");
    await w.page.getByRole("button", { name: "Close session" }).click();
    await w.page.getByRole("button", { name: "Yes, close session" }).click();
    await w.page.getByText("Session closed.").waitFor();
    const viaApi = (await (await server.request(`/v1/sessions/${session.id}`, { apiKey: tenant.apiKey })).json()) as Schemas["Session"];
    expect(viaApi.status).toBe("closed");
    // The rider calls again: refused, and the timeline says why.
    expect((await carrier.placeCall({ from: rider, to: session.participants[0]!.proxyNumber })).kind).toBe("reject");
    await w.page.reload();
    await heading(w.page, "Session trip-4711");
    await w.page.getByText("The session had been closed before the call.").waitFor();
    await open(w, "Sessions");
    await w.page.getByLabel("Status").selectOption("closed");
    await w.page.getByRole("button", { name: "Filter" }).click();
    await w.page.getByRole("link", { name: session.id }).waitFor();
    await expectAccessible(w.page, "sessions");
    await expectClean(w);
  });

  it("filters calls by decision and shows why a call was refused", async () => {
    await open(w, "Calls");
    await w.page.getByRole("cell", { name: "The caller is in no open session on this number." }).waitFor();
    await w.page.getByLabel("Decision").selectOption("bridged");
    await w.page.getByRole("button", { name: "Filter" }).click();
    await w.page.waitForURL(/decision=bridged/);
    await w.page.getByRole("cell", { name: "Connected to the other participant." }).waitFor();
    // The unfiltered rows stay until the filtered page arrives (its bridged row was on both): wait for them to go.
    await expect.poll(() => w.page.getByRole("cell", { name: "The caller is in no open session on this number." }).count()).toBe(0);
    await expectAccessible(w.page, "calls");
    await open(w, "Overview");
    await w.page.getByRole("img", { name: /Calls today by decision\. Bridged: 1, Unknown caller: 1/ }).waitFor();
    await w.page.getByRole("img", { name: /Pool riders: / }).waitFor();
    await expectAccessible(w.page, "overview");
    await expectClean(w);
  });

  it("creates a key (its secret shown once) and revokes it; a console session opened with it is refused from then on", async () => {
    await open(w, "API keys");
    await w.page.getByLabel("Name").fill("checkout service");
    await w.page.getByRole("button", { name: "Create key" }).click();
    const secret = (await w.page.locator(".secret code").textContent())!;
    expect(secret).toMatch(/^mk_live_/);
    await expectAccessible(w.page, "api keys");
    // Someone signs in to the console with the new key, in another browser.
    const other = await browser.newPage();
    await signInThroughPage(other, secret, "Overview");
    // Revoked from the first console.
    const row = w.page.getByRole("row", { name: /checkout service/ });
    await row.getByRole("button", { name: "Revoke" }).click();
    await row.getByRole("button", { name: "Yes, revoke" }).click();
    await w.page.getByText("Revoked checkout service.").waitFor();
    await row.getByText(/^revoked/).waitFor();
    expect((await server.request("/v1/api-keys", { apiKey: secret })).status).toBe(401);
    // The other console's next request is refused and it is back at sign-in, told why.
    await other.page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Sessions", exact: true }).click();
    await heading(other.page, "Sign in to the console");
    await other.page.getByText("Your console session has ended (it expired, was signed out elsewhere, or its key was revoked).").waitFor();
    const refused = await other.page.evaluate(async () => {
      const res = await fetch("/v1/console/session");
      await res.text();
      return res.status;
    });
    expect(refused).toBe(401);
    await expectClean(other);
    await other.context.close();
    await expectClean(w);
  });

  it("refuses a change the page makes without the CSRF token, and gives another tenant's ids 404 through the console", async () => {
    const other = await tenantWithPool(server);
    const [a, b] = people(2) as [string, string];
    realNumbers.push(a, b);
    const theirs = (await (await createSession(server, other.apiKey, { participants: [{ number: a }, { number: b }] })).json()) as Schemas["Session"];
    const status = await w.page.evaluate(
      async ([mine, foreign]) => {
        // Each body is read to its end, so no request is left open when the page moves on.
        const statusOf = async (res: Response) => (await res.text(), res.status);
        const post = (path: string, headers: Record<string, string> = {}) =>
          fetch(path, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: "{}" }).then(statusOf);
        const session = (await (await fetch("/v1/console/session")).json()) as { csrfToken: string };
        return {
          noCsrf: await post(`/v1/sessions/${mine}/close`),
          foreignRead: await fetch(`/v1/sessions/${foreign}`).then(statusOf),
          foreignClose: await post(`/v1/sessions/${foreign}/close`, { "x-csrf-token": session.csrfToken }),
        };
      },
      [session.id, theirs.id] as const,
    );
    expect(status).toEqual({ noCsrf: 403, foreignRead: 404, foreignClose: 404 });
    await w.page.goto(url(`/sessions/${theirs.id}`));
    await w.page.getByText("This session could not be loaded.").waitFor();
    await w.page.getByText("Session not found").waitFor();
    const still = (await (await server.request(`/v1/sessions/${theirs.id}`, { apiKey: other.apiKey })).json()) as Schemas["Session"];
    expect(still.status).toBe("open");
    await expectAccessible(w.page, "not found");
    await expectClean(w);
  });

  it("reads the audit log, where the console's changes name the console session", async () => {
    await open(w, "Audit log");
    const row = w.page.getByRole("row", { name: /session\.closed/ });
    await row.first().waitFor();
    await row.first().getByText("via console").waitFor();
    await w.page.getByLabel("Action").fill("api_key.revoked");
    await w.page.getByRole("button", { name: "Filter" }).click();
    await w.page.waitForURL(/action=api_key.revoked/);
    // Two revocations: the key revoked here, and the one the operator revoked when it made this tenant.
    await w.page.getByRole("cell", { name: "api_key.revoked" }).first().waitFor();
    await expect.poll(() => w.page.getByRole("cell", { name: "api_key.revoked" }).count()).toBe(2);
    await expect.poll(() => w.page.getByRole("cell", { name: "session.closed" }).count()).toBe(0);
    await expectAccessible(w.page, "audit log");
    await expectClean(w);
  });

  it("shows webhook endpoints, settings and empty states that say what to do", async () => {
    await open(w, "Webhooks", "Webhook endpoints");
    await w.page.getByText("No endpoints yet").waitFor();
    await w.page.getByLabel("URL").fill("http://127.0.0.1:9/events");
    await w.page.getByRole("button", { name: "Add endpoint" }).click();
    await w.page.locator(".secret code").getByText(/^whsec_/).waitFor();
    await w.page.getByRole("link", { name: "http://127.0.0.1:9/events" }).click();
    await heading(w.page, "Webhook endpoint");
    await w.page.getByText("No deliveries yet").waitFor();
    await expectAccessible(w.page, "webhook endpoint");
    await open(w, "Webhooks", "Webhook endpoints");
    await expectAccessible(w.page, "webhooks");
    await open(w, "Settings");
    await w.page.getByLabel("Retention (days)").fill("30");
    await w.page.getByRole("button", { name: "Save settings" }).click();
    await w.page.getByText("Settings saved.").waitFor();
    expect(((await (await server.request("/v1/settings", { apiKey: tenant.apiKey })).json()) as Schemas["TenantSettings"]).retentionDays).toBe(30);
    await expectAccessible(w.page, "settings");
    await expectClean(w);
  });

  it("works from the keyboard: a skip link first, visible focus, the menu on a phone-sized screen", async () => {
    await w.page.goto(url("/"));
    await heading(w.page, "Overview");
    await w.page.keyboard.press("Tab");
    const skip = w.page.getByRole("link", { name: "Skip to content" });
    expect(await skip.evaluate((el) => el === document.activeElement)).toBe(true);
    const outline = await skip.evaluate((el) => getComputedStyle(el).outlineStyle);
    expect(outline).not.toBe("none");
    await w.page.setViewportSize({ width: 390, height: 844 });
    const nav = w.page.getByRole("navigation", { name: "Main" });
    // Visibility follows a re-render, which can land just after the click or resize returns: poll for it.
    await expect.poll(() => nav.isVisible()).toBe(false);
    await w.page.getByRole("button", { name: "Menu" }).click();
    await expect.poll(() => nav.isVisible()).toBe(true);
    await nav.getByRole("link", { name: "Calls" }).focus();
    await w.page.keyboard.press("Enter");
    await heading(w.page, "Calls");
    await expect.poll(() => nav.isVisible()).toBe(false);
    await expectAccessible(w.page, "calls (phone)");
    await w.page.setViewportSize({ width: 1360, height: 900 });
    await expectClean(w);
  });

  it("signs out, ending the session on the server", async () => {
    const cookie = (await w.context.cookies())[0]!;
    await w.page.getByRole("button", { name: "Sign out" }).click();
    await heading(w.page, "Sign in to the console");
    await w.page.getByText("You have signed out; the session is ended on the server.").waitFor();
    const res = await server.request("/v1/console/session", { headers: { cookie: `${cookie.name}=${cookie.value}` } });
    expect(res.status).toBe(401);
    await expectClean(w);
  });

  it("fails, rather than skips, where Chromium is missing", async () => {
    await expect(launchConsoleBrowser("/nonexistent/chromium")).rejects.toThrow(/Chromium is not installed at \/nonexistent\/chromium: run `apt-get install -y chromium`/);
  });

  it("checked every page with axe", () => {
    expect([...checkedPages].sort()).toEqual(
      [
        "api keys",
        "apps",
        "audit log",
        "calls",
        "calls (phone)",
        "not found",
        "numbers and pools",
        "operator: audit log",
        "operator: tenant",
        "operator: tenants",
        "overview",
        "overview (empty)",
        "session detail",
        "sessions",
        "settings",
        "sign-in",
        "webhook endpoint",
        "webhooks",
      ].sort(),
    );
  });
});
