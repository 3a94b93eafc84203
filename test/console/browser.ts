/**
 * Headless Chromium for the console's end-to-end tests and screenshots: Debian's /usr/bin/chromium driven by
 * playwright-core (no browser download). The network here is closed, so the flags turn off everything Chromium would
 * otherwise reach out for (it hangs on those lookups). Missing Chromium is a failure, never a skip: .ci/run installs it.
 *
 * Every page is watched: a console error, an uncaught exception or a failed request is collected, and
 * expectCleanPage() fails the test with them.
 */
import { existsSync } from "node:fs";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { CHROMIUM_ARGS, CHROMIUM_PATH } from "../support/chromium.js";

export interface ConsoleBrowser {
  browser: Browser;
  /** A fresh context (its own cookies) with a watched page. */
  newPage(opts?: { width?: number; height?: number }): Promise<WatchedPage>;
  close(): Promise<void>;
}

export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  /** Console errors, uncaught exceptions and failed requests seen so far. */
  problems: string[];
  /** Every response the page loaded: url, status and body text (JSON and HTML only). */
  responses: Array<{ url: string; status: number; body: string }>;
  /** Requests still in flight, so a test can wait for them before reading `responses`. */
  settled(): Promise<void>;
}

/**
 * Chromium logs a failed fetch (our 401 for a page load without a session, a 4xx a test asks for on purpose) as a
 * console error "Failed to load resource"; those are the API's answers, which the page handles. They are allowed only
 * when the test says the status was expected.
 */
export async function launchConsoleBrowser(executablePath = CHROMIUM_PATH): Promise<ConsoleBrowser> {
  if (!existsSync(executablePath)) {
    throw new Error(`Chromium is not installed at ${executablePath}: run \`apt-get install -y chromium\` (.ci/run does).`);
  }
  // playwright's launch() gives every browser a fresh, empty user-data-dir of its own (and removes it on close).
  const browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
  return {
    browser,
    async newPage(opts = {}) {
      const context = await browser.newContext({ viewport: { width: opts.width ?? 1360, height: opts.height ?? 900 }, reducedMotion: "reduce" });
      const page = await context.newPage();
      const problems: string[] = [];
      const responses: WatchedPage["responses"] = [];
      const pending = new Set<Promise<unknown>>();
      page.on("console", (msg) => {
        if (msg.type() !== "error") return;
        const text = msg.text();
        // The API's own refusals the page asked for and handles (401 before sign-in, 403/404 a test provokes) are
        // reported by the response check below; everything else is a real console error.
        if (/^Failed to load resource: the server responded with a status of (401|403|404|409|422|429)\b/.test(text)) return;
        problems.push(`console error: ${text}`);
      });
      page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
      // A request still in flight when the page navigates (a reload the test makes during a refresh) is cancelled by
      // the browser (ERR_ABORTED): nothing the server or the console did. Any other failure, an abort without a
      // navigation since the request began (the SDK's own timeout) included, is a problem.
      let navigations = 0;
      const startedAt = new WeakMap<object, number>();
      // Counted when the navigation's own request starts: the browser cancels the others after that, and the
      // frame's "navigated" event may come later than their failures.
      page.on("request", (req) => {
        startedAt.set(req, navigations);
        if (req.isNavigationRequest() && req.frame() === page.mainFrame()) navigations++;
      });
      page.on("requestfailed", (req) => {
        const why = req.failure()?.errorText ?? "?";
        if (why === "net::ERR_ABORTED" && (startedAt.get(req) ?? navigations) < navigations) return;
        problems.push(`request failed: ${req.method()} ${req.url()} (${why})`);
      });
      page.on("response", (res) => {
        const type = res.headers()["content-type"] ?? "";
        if (res.status() >= 500) problems.push(`server error: ${res.status()} ${res.request().method()} ${res.url()}`);
        if (!/json|html|javascript|css/.test(type)) return;
        const read = res
          .text()
          .then((body) => void responses.push({ url: res.url(), status: res.status(), body }))
          .catch(() => undefined);
        pending.add(read);
        void read.finally(() => pending.delete(read));
      });
      return {
        page,
        context,
        problems,
        responses,
        async settled() {
          while (pending.size) await Promise.all([...pending]);
        },
      };
    },
    async close() {
      await browser.close();
    },
  };
}
