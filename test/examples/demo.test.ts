/**
 * `pnpm demo` (test/sim/demo.ts) against a started service, as the README tells a newcomer to run it: the two-way
 * story, the call flows (click-to-call through the carrier's REST simulator, a recorded call, a PIN line) and the
 * events, verified with the SDK. It exits 0 only when every step held; this proves it still does.
 */
import { execFile } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/harness.js";
import { startJobRunner, type JobRunner } from "../../server/src/jobs/index.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** A port nobody listens on now, for the demo's carrier simulator (its default, 8091, may be taken on a CI host). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

let service: TestServer;
let jobs: JobRunner;
let carrierPort: number;
beforeAll(async () => {
  carrierPort = await freePort();
  // Embedded, on a database of its own, with its own job runner delivering the events, as `pnpm start` runs.
  service = await startTestServer({
    env: { DATABASE_URL: "", MASKLINE_WEBHOOK_ALLOW_PRIVATE: "true", VOBIZ_API_BASE_URL: `http://127.0.0.1:${carrierPort}/api/v1` },
  });
  jobs = await startJobRunner(service.deps);
});
afterAll(async () => {
  await jobs?.stop();
  await service?.stop();
});

describe("pnpm demo", () => {
  it("plays the whole story, the three call flows and the verified events, and exits 0", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "test/sim/demo.ts"], {
      cwd: ROOT,
      timeout: 90_000,
      env: {
        ...process.env,
        MASKLINE_URL: service.baseUrl,
        MASKLINE_ADMIN_TOKEN: service.adminToken,
        MASKLINE_DEMO_CARRIER_PORT: String(carrierPort),
      },
    });
    expect(stdout).toContain("The call flows hold: click-to-call, recording with consent, PIN line.");
    expect(stdout).toMatch(/the very bytes the carrier stored/);
    expect(stdout).toMatch(/locked out of this line for 15 minutes/);
    const events = /Events received and verified: (\d+)/.exec(stdout);
    expect(Number(events?.[1])).toBeGreaterThanOrEqual(10);
    expect(stdout).not.toMatch(/refused: [1-9]/);
  }, 120_000);
});
