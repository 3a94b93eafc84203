/**
 * /docs in a real browser: the committed reference renders every operation of the spec, writes no console error, and
 * asks no host but the service for anything (the page must work offline, on a machine that reaches nothing else).
 */
import { readFileSync } from "node:fs";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { startTestServer, type TestServer } from "../support/harness.js";
import { chromiumUnavailable, isLocalUrl, launchChromium } from "../support/chromium.js";

interface SpecOperation {
  operationId: string;
  summary: string;
  tags: string[];
}
const METHODS = ["get", "put", "post", "delete", "patch"] as const;
const spec = parse(readFileSync(new URL("../../openapi/openapi.yaml", import.meta.url), "utf8")) as {
  paths: Record<string, Partial<Record<(typeof METHODS)[number], SpecOperation>>>;
};
const operations = Object.entries(spec.paths).flatMap(([path, item]) =>
  METHODS.flatMap((method) => (item[method] ? [{ path, method: method.toUpperCase(), ...item[method] }] : [])),
);
const tags = [...new Set(operations.flatMap((op) => op.tags))];

/** The page's globals as the browser has them, for code run in the page (the tests compile without the DOM library). */
type PageGlobals = { document: { body: { innerText: string }; querySelector(selector: string): { innerText: string } | null } };

const unavailable = chromiumUnavailable();

describe.skipIf(unavailable !== null)(`the API reference in headless Chromium${unavailable ? ` (skipped: ${unavailable})` : ""}`, () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];
  const offHost: string[] = [];

  beforeAll(async () => {
    server = await startTestServer();
    browser = await launchChromium();
    const context = await browser.newContext();
    // Anything bound elsewhere is refused before it leaves, and remembered: one such request fails the test.
    await context.route("**/*", async (route) => {
      const url = route.request().url();
      if (isLocalUrl(url)) return route.continue();
      offHost.push(url);
      return route.abort("blockedbyclient");
    });
    page = await context.newPage();
    page.on("request", (request) => {
      if (!isLocalUrl(request.url()) && !offHost.includes(request.url())) offHost.push(request.url());
    });
    page.on("console", (message) => {
      if (message.type() === "error") consoleErrors.push(message.text());
    });
    page.on("pageerror", (error) => consoleErrors.push(`uncaught: ${error.message}`));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  /** Opens the section of `tag` (one tag's operations are rendered at a time) and returns the links in the page. */
  async function openSection(tag: string): Promise<string[]> {
    const links = () => page.$$eval("a[href]", (as) => as.map((a) => [a.textContent?.trim() ?? "", a.getAttribute("href") ?? ""]));
    const href = (await links()).find(([text]) => text === tag)?.[1];
    expect(href, `a link to the ${tag} section`).toBeTruthy();
    await page.goto(`${server.baseUrl}/docs#/${href!.replace(/^#?\/?/, "")}`);
    const first = operations.find((op) => op.tags.includes(tag))!;
    await page.waitForFunction(
      (summary) => (globalThis as unknown as PageGlobals).document.body.innerText.includes(summary),
      first.summary,
      { timeout: 15_000 },
    );
    return (await links()).map(([, link]) => link!);
  }

  /** True once the main panel shows the operation itself: its summary as the heading, and its path. */
  const showsOperation = (op: (typeof operations)[number]) =>
    page
      .waitForFunction(
        ([summary, path]) => {
          const main = (globalThis as unknown as PageGlobals).document.querySelector("main")?.innerText ?? "";
          return main.includes(summary!) && main.includes(path!);
        },
        [op.summary, op.path],
        { timeout: 10_000 },
      )
      .then(() => true, () => false);

  it("shows every operation of the spec, its summary and path, with no console error and no other host", async () => {
    expect(operations.length).toBeGreaterThan(20);
    const response = await page.goto(`${server.baseUrl}/docs`, { waitUntil: "networkidle" });
    expect(response?.status()).toBe(200);
    await expect.poll(() => page.title()).toBe("Maskline API reference");

    const missing: string[] = [];
    for (const tag of tags) {
      const links = await openSection(tag);
      for (const op of operations.filter((o) => o.tags.includes(tag))) {
        // The reference links each operation by its operationId (lower-cased), under its tag.
        const link = links.find((href) => href.startsWith("#/") && href.endsWith(`/${op.operationId.toLowerCase()}`));
        if (link) await page.goto(`${server.baseUrl}/docs${link}`);
        if (!link || !(await showsOperation(op))) missing.push(`${op.operationId} (${op.method} ${op.path})`);
      }
    }
    await page.waitForLoadState("networkidle");
    expect(missing).toEqual([]);
    expect(consoleErrors).toEqual([]);
    expect(offHost).toEqual([]);
  }, 240_000);
});
