/** Setup through the public API only: a tenant (operator API), an app with a known auth token, a pool of DIDs. */
import { randomBytes, randomUUID } from "node:crypto";
import { didNumber } from "./people.js";

export interface BenchTenant {
  tenantId: string;
  apiKey: string;
  appId: string;
  answerUrl: string;
  authToken: string;
  pool: string;
  /** The pool's DIDs as the API returned them. */
  dids: Array<{ id: string; number: string }>;
}

async function call<T>(baseUrl: string, method: string, path: string, token: string, body?: unknown): Promise<T> {
  const res = await fetch(baseUrl + path, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      // As the SDK does for every POST.
      ...(method === "POST" ? { "idempotency-key": randomUUID() } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status}: ${text.slice(0, 500)}`);
  return JSON.parse(text) as T;
}

export async function setupTenant(baseUrl: string, adminToken: string, didCount: number): Promise<BenchTenant> {
  const created = await call<{ tenant: { id: string }; apiKey: { secret: string } }>(
    baseUrl, "POST", "/v1/admin/tenants", adminToken, { name: "Bench Logistics" },
  );
  const apiKey = created.apiKey.secret;
  const authToken = `bench-${randomBytes(18).toString("base64url")}`;
  const app = await call<{ id: string; answerUrl: string }>(baseUrl, "POST", "/v1/apps", apiKey, {
    name: "bench",
    vobizAuthId: "MA_BENCH",
    vobizAuthToken: authToken,
    signatureRequired: true,
    defaultCountry: "IN",
  });
  const pool = "default";
  const dids: BenchTenant["dids"] = [];
  for (let start = 0; start < didCount; start += 1000) {
    const numbers = Array.from({ length: Math.min(1000, didCount - start) }, (_, i) => didNumber(start + i));
    const res = await call<{ data: Array<{ id: string; number: string }> }>(baseUrl, "POST", "/v1/numbers", apiKey, {
      appId: app.id,
      numbers,
      pool,
    });
    dids.push(...res.data.map((n) => ({ id: n.id, number: n.number })));
  }
  if (dids.length !== didCount) throw new Error(`expected ${didCount} DIDs, the API returned ${dids.length}`);
  return { tenantId: created.tenant.id, apiKey, appId: app.id, answerUrl: app.answerUrl, authToken, pool, dids };
}
