import { readFileSync } from "node:fs";
import Router from "@koa/router";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { buildRouter } from "../../server/src/app.js";
import type { RequestState } from "../../server/src/http/context.js";
import { operationsById, type OperationId } from "../../server/src/http/openapi.js";
import { rawRoute, route, unregisteredOperations } from "../../server/src/http/route.js";
import { healthRoutes } from "../../server/src/routes/health.js";
import type { Deps } from "../../server/src/deps.js";

// Read straight from the YAML a person edits, not from the JSON the server derives from it, so a step of `pnpm gen`
// that dropped or renamed an operation would show up here too.
const METHODS = ["get", "put", "post", "delete", "patch"] as const;
type SpecDocument = { paths: Record<string, Partial<Record<(typeof METHODS)[number], { operationId: string }>>> };
const spec = parse(readFileSync(new URL("../../openapi/openapi.yaml", import.meta.url), "utf8")) as SpecDocument;
const specOperations = Object.entries(spec.paths).flatMap(([path, item]) =>
  METHODS.flatMap((method) => (item[method] ? [`${item[method].operationId} ${method.toUpperCase()} ${path}`] : [])),
);
const specIds = specOperations.map((op) => op.split(" ")[0]!);

/** What a router serves, one line per operation: "<operationId> <METHOD> <spec path>". */
function served(router: Router<RequestState>): string[] {
  return router.stack.map((layer) => {
    const methods = layer.methods.filter((m) => m !== "HEAD"); // Koa's router adds HEAD to every GET
    expect(methods, `${String(layer.name)} serves one method`).toHaveLength(1);
    return `${String(layer.name)} ${methods[0]} ${String(layer.path).replace(/:(\w+)/g, "{$1}")}`;
  });
}

// Registration only wires middleware; nothing touches deps until a request arrives.
const noDeps = {} as Deps;
const noHandler = async () => undefined as never;

describe("the server against its OpenAPI document", () => {
  it("serves every operation in openapi.yaml at its method and path, and nothing the document does not declare", () => {
    expect(specOperations.length).toBeGreaterThan(20);
    expect(served(buildRouter(noDeps)).sort()).toEqual([...specOperations].sort());
  });

  it("names every operation like resource.verb, each operationId once", () => {
    for (const id of specIds) expect(id).toMatch(/^[a-z][A-Za-z]*(\.[a-z][A-Za-z]*)+$/);
    expect(new Set(specIds).size).toBe(specIds.length);
    expect([...operationsById.keys()].sort()).toEqual([...specIds].sort());
  });

  it("refuses to register an operationId the document does not have, or one twice", () => {
    const router = new Router<RequestState>();
    expect(() => route(router, noDeps, "sessions.teleport" as OperationId, noHandler)).toThrow(/sessions\.teleport is not in the OpenAPI document/);
    expect(() => rawRoute(router, "vobiz.fax" as OperationId, noHandler)).toThrow(/vobiz\.fax is not in the OpenAPI document/);
    route(router, noDeps, "health.live", noHandler);
    expect(() => route(router, noDeps, "health.live", noHandler)).toThrow(/health\.live registered twice/);
  });

  it("names, for a router missing handlers, exactly the operations it lacks (what buildRouter refuses to start with)", () => {
    const partial = new Router<RequestState>();
    healthRoutes(partial, noDeps);
    const expected = specIds.filter((id) => !id.startsWith("health.")).sort();
    expect(expected.length).toBe(specIds.length - 2);
    expect([...unregisteredOperations(partial)].sort()).toEqual(expected);
    expect(unregisteredOperations(buildRouter(noDeps))).toEqual([]);
  });

  it("puts authentication on every operation except health, the docs, the public signing keys and the console's sign-in: the carrier's signature on its webhooks, the metrics token on metrics, the console's cookie on its session", () => {
    for (const op of operationsById.values()) {
      if (op.id.startsWith("health.") || op.id.startsWith("docs.") || op.id === "webhooks.jwks" || op.id === "console.signIn") expect(op.security).toBe("none");
      else if (op.id.startsWith("console.")) expect(op.security).toBe("consoleSession");
      else if (op.id.startsWith("vobiz.")) expect(op.security).toBe("vobizSignature");
      else if (op.id.startsWith("admin.")) expect(op.security).toBe("adminToken");
      else if (op.id === "metrics.get") expect(op.security).toBe("metricsToken");
      else expect(op.security).toBe("apiKey");
    }
  });
});
