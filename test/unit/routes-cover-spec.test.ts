import { describe, expect, it } from "vitest";
import { buildRouter } from "../../server/src/app.js";
import { unregisteredOperations } from "../../server/src/http/route.js";
import { operationsById } from "../../server/src/http/openapi.js";
import type { Deps } from "../../server/src/deps.js";

describe("the server against its OpenAPI document", () => {
  it("serves every operation the spec declares, each with an operationId like resource.verb", () => {
    // Registration only wires middleware; nothing touches deps until a request arrives.
    const router = buildRouter({} as Deps);
    expect(unregisteredOperations(router)).toEqual([]);
    for (const id of operationsById.keys()) expect(id).toMatch(/^[a-z][A-Za-z]*(\.[a-z][A-Za-z]*)+$/);
  });

  it("puts authentication on every operation except health and the carrier webhooks", () => {
    for (const op of operationsById.values()) {
      if (op.id.startsWith("health.")) expect(op.security).toBe("none");
      else if (op.id.startsWith("vobiz.")) expect(op.security).toBe("vobizSignature");
      else if (op.id.startsWith("admin.")) expect(op.security).toBe("adminToken");
      else expect(op.security).toBe("apiKey");
    }
  });
});
