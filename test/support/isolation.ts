import { expect } from "vitest";
import type { TestServer } from "./harness.js";

export interface ProbeRequest {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  path: string;
  json?: unknown;
}

/**
 * Tenant isolation, as every route must show it: another tenant's key gets the same 404 `not_found`
 * problem for a resource that exists as for one that never did, and learns nothing from the body.
 */
export async function expectInvisibleToOtherTenant(server: TestServer, intruderKey: string, probes: ProbeRequest[]) {
  for (const probe of probes) {
    const res = await server.request(probe.path, {
      method: probe.method,
      apiKey: intruderKey,
      ...(probe.json !== undefined ? { json: probe.json } : {}),
    });
    const text = await res.text();
    expect(res.status, `${probe.method} ${probe.path} as another tenant`).toBe(404);
    expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(text)).toMatchObject({ status: 404, code: "not_found" });
  }
}

/** A list endpoint seen by another tenant never contains the owner's ids. */
export async function expectNotListed(server: TestServer, intruderKey: string, listPath: string, ownerIds: string[]) {
  const res = await server.request(listPath, { apiKey: intruderKey });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { data: Array<{ id: string }> };
  const seen = new Set(body.data.map((r) => r.id));
  for (const id of ownerIds) expect(seen.has(id), `${listPath} leaks ${id}`).toBe(false);
}

export async function problemOf(res: Response) {
  expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  return (await res.json()) as { type: string; title: string; status: number; detail: string; code: string; requestId: string; errors?: Array<{ path: string; message: string }> };
}
