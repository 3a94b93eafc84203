import type { TestServer } from "./harness.js";
import type { components } from "../../openapi/generated/schema.js";
import { SCHEMA_DEFAULTS } from "../../openapi/generated/constants.js";

/** The API's wire types, from the spec. */
export type Schemas = components["schemas"];

export const AUTH_TOKEN = "vobiz-test-auth-token";

export interface TenantFixture {
  tenantId: string;
  apiKey: string;
  app: Schemas["App"];
  dids: string[];
  pool: string;
}

async function expectJson<T>(res: Response, status: number, what: string): Promise<T> {
  const text = await res.text();
  if (res.status !== status) throw new Error(`${what}: expected ${status}, got ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

/** A tenant with one Vobiz app and a pool of DIDs, all made through the public API. */
export async function tenantWithPool(
  server: TestServer,
  opts: { dids?: number | string[]; pool?: string; app?: Record<string, unknown> } = {},
): Promise<TenantFixture> {
  const { tenantId, apiKey } = await server.createTenant();
  const app = await expectJson<TenantFixture["app"]>(
    await server.request("/v1/apps", {
      method: "POST",
      apiKey,
      json: { name: "Test app", vobizAuthId: "MA_TEST", vobizAuthToken: AUTH_TOKEN, ...opts.app },
    }),
    201,
    "creating an app",
  );
  const pool = opts.pool ?? SCHEMA_DEFAULTS.ImportNumbersRequest.pool;
  const importDids = (dids: string[]) => server.request("/v1/numbers", { method: "POST", apiKey, json: { appId: app.id, numbers: dids, pool } });
  let res = await importDids(Array.isArray(opts.dids) ? opts.dids : uniqueDids(opts.dids ?? 2));
  // Drawn DIDs can meet one an earlier run left on a shared database (tens of thousands after a day of runs, in a
  // range of 10^8): draw again rather than fail. Given DIDs are the test's own choice and are never redrawn.
  for (let redraw = 0; redraw < 5 && !Array.isArray(opts.dids) && res.status === 409; redraw++) {
    await res.body?.cancel();
    res = await importDids(uniqueDids(opts.dids ?? 2));
  }
  const imported = await expectJson<Schemas["NumberImportResult"]>(res, 201, "importing numbers");
  return { tenantId, apiKey, app, dids: imported.data.map((n) => n.number), pool };
}

// DIDs are claimed globally (one app of one tenant each), and the real-Postgres database is shared by every
// test file and run, so each fixture draws numbers nobody else holds: random within a 10^8 range.
export function uniqueDids(count: number): string[] {
  const out = new Set<string>();
  while (out.size < count) out.add(`+9190${String(Math.floor(Math.random() * 1e8)).padStart(8, "0")}`);
  return [...out];
}

/** Distinct, valid Indian mobile numbers for people (never DIDs). */
export function people(count: number, offset = 0): string[] {
  const start = Math.floor(Math.random() * 1e6) * 100;
  return Array.from({ length: count }, (_, i) => `+9198${String((start + offset + i) % 1e8).padStart(8, "0")}`);
}

export async function createSession(server: TestServer, apiKey: string, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return server.request("/v1/sessions", { method: "POST", apiKey, json: body, headers });
}
