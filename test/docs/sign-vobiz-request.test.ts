import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signedBase, signV3 } from "../../scripts/sign-vobiz-request.mjs";
import { computeSignature, signatureBaseUrl } from "../../server/src/vobiz/signature.js";
import { startTestServer, type TestServer } from "../support/harness.js";
import { AUTH_TOKEN, tenantWithPool } from "../support/fixtures.js";

const script = join(import.meta.dirname, "../../scripts/sign-vobiz-request.mjs");
const sign = async (...args: string[]) => (await promisify(execFile)(process.execPath, [script, ...args])).stdout;

describe("scripts/sign-vobiz-request.mjs (docs/integrating.md)", () => {
  it("reproduces the test vector of docs/carrier-protocol.md", async () => {
    const out = await sign("--token", "test-auth-token", "--url", "https://masking.example.com/vobiz/answer?x=1", "--nonce", "12345678901234567890");
    expect(out).toContain("X-Vobiz-Signature-V3: pGs9Kvd6fY625tug/Z/2Aji4/sTrJKf/tx33Mg3ckw0=\n");
    expect(out).toContain("X-Vobiz-Signature-V3-Nonce: 12345678901234567890\n");
  });

  it("signs what the service checks, for URLs with ports, user-info, case, queries and fragments", () => {
    const urls = [
      "HTTPS://Masking.Example.com:443/v1/vobiz/app_1/answer?k=abc",
      "http://user:pw@127.0.0.1:8080/v1/vobiz/app_1/answer?k=a#frag",
      "http://localhost:80/v1/vobiz/app_1/hangup",
      "https://example.com/a/./b/%2F?x",
    ];
    for (const url of urls) {
      expect(signedBase(url), url).toBe(signatureBaseUrl(url));
      expect(signV3("tok", url, "98765432109876543210"), url).toBe(computeSignature("v3", "tok", signatureBaseUrl(url), "98765432109876543210"));
    }
  });

  describe("against a running service", () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer();
    });
    afterAll(async () => server?.stop());

    it("gets a call answered: the headers it prints pass the service's signature check", async () => {
      const t = await tenantWithPool(server, { dids: 1 });
      const out = await sign("--token", AUTH_TOKEN, "--url", t.app.answerUrl);
      const header = (name: string) => new RegExp(`^${name}: (\\S+)$`, "m").exec(out)![1]!;
      const form = new URLSearchParams({ CallUUID: crypto.randomUUID(), From: "+919888800001", To: t.dids[0]!, Direction: "inbound", CallStatus: "ringing" });
      const signed = await fetch(t.app.answerUrl, {
        method: "POST",
        headers: { "X-Vobiz-Signature-V3": header("X-Vobiz-Signature-V3"), "X-Vobiz-Signature-V3-Nonce": header("X-Vobiz-Signature-V3-Nonce") },
        body: form,
      });
      expect(signed.status).toBe(200);
      expect(await signed.text()).toMatch(/^<\?xml[\s\S]*<Response>/);
      // The same request with a signature made with another token is refused.
      const forged = await fetch(t.app.answerUrl, {
        method: "POST",
        headers: { "X-Vobiz-Signature-V3": signV3("not-the-token", t.app.answerUrl, "11112222333344445555"), "X-Vobiz-Signature-V3-Nonce": "11112222333344445555" },
        body: form,
      });
      expect(forged.status).toBe(403);
    });
  });
});
