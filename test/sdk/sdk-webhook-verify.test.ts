/** The SDK's webhooks.verify and verifyWithJwks, against deliveries signed here as the contract says (node:crypto). */
import { createHmac, generateKeyPairSync, sign } from "node:crypto";
import { describe, expect, it } from "vitest";
import { Maskline, WebhookVerificationError, webhooks, type PublicJwk } from "../../sdk/src/index.js";

const secret = "whsec_" + Buffer.alloc(32, 42).toString("base64");
const otherSecret = "whsec_" + Buffer.alloc(32, 43).toString("base64");
const { privateKey, publicKey } = generateKeyPairSync("ed25519");
const jwks = { keys: [{ ...publicKey.export({ format: "jwk" }), kid: "k1", alg: "EdDSA", use: "sig" } as PublicJwk] };

function signed(body: string, opts: { id?: string; at?: number; secrets?: string[] } = {}) {
  const id = opts.id ?? "evt_01TEST";
  const timestamp = String(opts.at ?? Math.floor(Date.now() / 1000));
  const content = `${id}.${timestamp}.${body}`;
  const v1 = (opts.secrets ?? [secret]).map(
    (s) => `v1,${createHmac("sha256", Buffer.from(s.slice(6), "base64")).update(content).digest("base64")}`,
  );
  const v1a = `v1a,${sign(null, Buffer.from(content), privateKey).toString("base64")}`;
  return { "webhook-id": id, "webhook-timestamp": timestamp, "webhook-signature": [...v1, v1a].join(" ") };
}

const callStarted = JSON.stringify({
  id: "evt_01TEST",
  type: "call.started",
  createdAt: "2026-12-02T10:00:00.000Z",
  data: { id: "call_1", decision: "bridged" },
});

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(WebhookVerificationError);
    return (err as WebhookVerificationError).reason;
  }
  throw new Error("expected a WebhookVerificationError");
}

describe("webhooks.verify", () => {
  it("returns the typed event for a delivery signed with the endpoint's secret", () => {
    const event = webhooks.verify(callStarted, signed(callStarted), secret);
    expect(event.type).toBe("call.started");
    if (event.type === "call.started") expect(event.data.decision).toBe("bridged");
  });

  it("accepts node's headers, fetch Headers and Buffer bodies alike, and is on the client too", () => {
    const h = signed(callStarted);
    expect(webhooks.verify(Buffer.from(callStarted), new Headers(h), secret).id).toBe("evt_01TEST");
    const client = new Maskline({ apiKey: "mk_live_x", baseUrl: "http://localhost:1" });
    expect(client.webhooks.verify(callStarted, { ...h, "webhook-signature": [h["webhook-signature"]] }, secret).id).toBe("evt_01TEST");
  });

  it("refuses a tampered body, a wrong secret, a stale or future timestamp and missing headers", () => {
    const h = signed(callStarted);
    expect(refusal(() => webhooks.verify(callStarted.replace("bridged", "rejected_one_way"), h, secret))).toBe("no_matching_signature");
    expect(refusal(() => webhooks.verify(callStarted, h, otherSecret))).toBe("no_matching_signature");
    const now = Math.floor(Date.now() / 1000);
    expect(refusal(() => webhooks.verify(callStarted, signed(callStarted, { at: now - 301 }), secret))).toBe("timestamp_out_of_tolerance");
    expect(refusal(() => webhooks.verify(callStarted, signed(callStarted, { at: now + 301 }), secret))).toBe("timestamp_out_of_tolerance");
    expect(refusal(() => webhooks.verify(callStarted, { "webhook-id": "evt_01TEST" }, secret))).toBe("missing_header");
    expect(refusal(() => webhooks.verify(callStarted, h, "not-a-secret"))).toBe("invalid_secret");
  });

  it("refuses a body that is not the event its webhook-id names", () => {
    expect(refusal(() => webhooks.verify(callStarted, signed(callStarted, { id: "evt_OTHER" }), secret))).toBe("invalid_body");
  });

  it("accepts a rotation's delivery with either secret", () => {
    const h = signed(callStarted, { secrets: [otherSecret, secret] });
    expect(webhooks.verify(callStarted, h, secret).id).toBe("evt_01TEST");
    expect(webhooks.verify(callStarted, h, otherSecret).id).toBe("evt_01TEST");
  });

  it("verifyWithJwks checks the v1a signature against the published keys", () => {
    expect(webhooks.verifyWithJwks(callStarted, signed(callStarted), jwks).type).toBe("call.started");
    const other = generateKeyPairSync("ed25519").publicKey.export({ format: "jwk" }) as PublicJwk;
    expect(refusal(() => webhooks.verifyWithJwks(callStarted, signed(callStarted), { keys: [other] }))).toBe("no_matching_signature");
    expect(refusal(() => webhooks.verifyWithJwks(callStarted + " ", signed(callStarted), jwks))).toBe("no_matching_signature");
  });
});
