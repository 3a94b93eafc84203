/**
 * Debian's chromium, driven by playwright-core, for the tests that render a page (test/docs/). CI installs it
 * (`.ci/chromium.sh`); there a missing browser fails the file, elsewhere the file is skipped and says why.
 */
import { existsSync } from "node:fs";
import type { Browser } from "playwright-core";

/** Debian's package; CHROMIUM_PATH names another build. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/**
 * Headless, and nothing of its own on the network: no QUIC, no background fetches, no component updates, no sync
 * (the network here is closed, and Chromium hangs on those lookups); /tmp instead of a small /dev/shm.
 */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

/** Why the browser tests cannot run on this machine, or null when they can. Throws under CI instead of skipping. */
export function chromiumUnavailable(): string | null {
  if (existsSync(CHROMIUM_PATH)) return null;
  const why = `${CHROMIUM_PATH} is missing (apt-get install chromium, or bash .ci/chromium.sh)`;
  if (process.env.CI) throw new Error(`browser tests: ${why}; under CI they fail instead of skipping`);
  return why;
}

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import("playwright-core");
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
}

/** Loopback only: what a page served by a local test server may reach. */
export function isLocalUrl(url: string): boolean {
  const { protocol, hostname } = new URL(url);
  if (protocol === "data:" || protocol === "blob:" || protocol === "about:") return true;
  return ["localhost", "127.0.0.1", "[::1]"].includes(hostname);
}
