/**
 * The SDK has a method for every operation a tenant or the operator calls: each such operation of the OpenAPI
 * document (security apiKey, adminToken or consoleSession) is requested by some resource's method, and the SDK
 * requests nothing the document lacks. Carrier webhooks, probes, /metrics and the reference are not the SDK's.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openapiDocument } from "../../server/src/http/openapi.js";

const SDK_SOURCES = join(import.meta.dirname, "../../sdk/src");
const CLIENT_SECURITY = new Set(["apiKey", "adminToken", "consoleSession"]);
const METHODS = ["get", "post", "put", "patch", "delete"] as const;

function specOperations(): Set<string> {
  const out = new Set<string>();
  for (const [path, item] of Object.entries(openapiDocument.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const security = op.security ?? openapiDocument.security ?? [];
      if (security.some((s) => Object.keys(s).some((name) => CLIENT_SECURITY.has(name)))) out.add(`${method.toUpperCase()} ${path}`);
    }
  }
  return out;
}

function sdkRequests(): Set<string> {
  const files = [...readdirSync(join(SDK_SOURCES, "resources")).map((f) => join("resources", f)), "webhooks.ts"];
  const out = new Set<string>();
  for (const file of files) {
    const text = readFileSync(join(SDK_SOURCES, file), "utf8");
    for (const m of text.matchAll(/\.api\.(GET|POST|PUT|PATCH|DELETE)\(\s*"([^"]+)"/g)) out.add(`${m[1]} ${m[2]}`);
  }
  return out;
}

describe("the SDK and the spec", () => {
  it("has a method for every tenant and operator operation", () => {
    const missing = [...specOperations()].filter((op) => !sdkRequests().has(op));
    expect(missing).toEqual([]);
  });

  it("requests only operations the document has", () => {
    const all = new Set(Object.entries(openapiDocument.paths).flatMap(([path, item]) => METHODS.filter((m) => item[m]).map((m) => `${m.toUpperCase()} ${path}`)));
    expect([...sdkRequests()].filter((op) => !all.has(op))).toEqual([]);
    expect(sdkRequests().size).toBeGreaterThan(40);
  });
});
