import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { verifyVobizSignature, type VerifySignatureResult } from "../../server/src/vobiz/signature.js";
import { callActionXml, emptyXml } from "../../server/src/vobiz/xml.js";
import { VobizSimulator, randomNonce, vobizTime } from "../sim/vobiz-simulator.js";
import { parseVobizXml } from "../sim/vobiz-xml.js";

/**
 * A miniature masking service: checks the URL secret and the signature (from the URL as the carrier requested it,
 * rebuilt from the public base plus the request path), refuses replayed nonces, answers hangup notices with an
 * empty Response, dials known callers and rejects the rest.
 */
const TOKEN = "app-auth-token";
const PARENT = "parent-auth-token";
const SECRET = "s3cr3t";
const M1 = "+919000000001";
const ALICE = "+919888800001";
const BOB = "+919888800002";
const HOSTILE = `Tom & Jerry <script>"'`;

interface Seen {
  method: string;
  path: string;
  query: string;
  headers: IncomingHttpHeaders;
  fields: Record<string, string>;
  signature: VerifySignatureResult;
}

let server: Server;
let base: string;
let seen: Seen[] = [];
let serverToken = TOKEN;
let serverParent: string | undefined;
const nonces = new Set<string>();

function reply(res: import("node:http").ServerResponse, status: number, body: string, type = "application/xml") {
  res.writeHead(status, { "content-type": type });
  res.end(body);
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (raw += c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", base);
      const fields = Object.fromEntries(req.method === "GET" ? url.searchParams : new URLSearchParams(raw));
      delete fields.k; // the URL secret, not a carrier field
      const signature = verifyVobizSignature({
        headers: req.headers,
        url: base + (req.url ?? "/"),
        authToken: serverToken,
        ...(serverParent ? { parentAuthToken: serverParent } : {}),
      });
      seen.push({ method: req.method ?? "", path: url.pathname, query: url.search, headers: req.headers, fields, signature });

      if (url.pathname === "/broken") return reply(res, 200, "<Response><Speak>a & b</Speak></Response>");
      if (url.pathname === "/html") return reply(res, 200, emptyXml(), "text/html");
      if (url.pathname === "/slow") return void setTimeout(() => reply(res, 200, emptyXml()), 400);
      if (url.searchParams.get("k") !== SECRET) return reply(res, 404, "no such app", "text/plain");
      if (signature.status === "absent") return reply(res, 401, "unsigned", "text/plain");
      if (signature.status === "invalid") return reply(res, 403, "bad signature", "text/plain");
      if (nonces.has(signature.nonce!)) return reply(res, 409, "replayed", "text/plain");
      nonces.add(signature.nonce!);

      if (url.pathname === "/dial-status" || url.pathname === "/hangup") return reply(res, 200, emptyXml());
      if (fields.Event === "Hangup" || fields.CallStatus === "completed" || fields.CallStatus === "failed") {
        return reply(res, 200, emptyXml());
      }
      if (fields.From === ALICE && fields.To === M1) {
        return reply(
          res,
          200,
          callActionXml({ kind: "bridge", callerId: M1, number: BOB, timeoutSeconds: 30, timeLimitSeconds: 3600, actionUrl: `${base}/dial-status?k=${SECRET}&x=1` }),
        );
      }
      if (fields.From === BOB) return reply(res, 200, callActionXml({ kind: "refuse", message: "" }));
      return reply(res, 200, callActionXml({ kind: "refuse", message: HOSTILE }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  seen = [];
  serverToken = TOKEN;
  serverParent = undefined;
});

function sim(overrides: Partial<ConstructorParameters<typeof VobizSimulator>[0]> = {}) {
  return new VobizSimulator({ authToken: TOKEN, answerUrl: `${base}/answer?k=${SECRET}`, ...overrides });
}

describe("VobizSimulator.placeCall", () => {
  it("sends a V3-signed form POST with the inbound answer fields and reads the Dial", async () => {
    const call = await sim().placeCall({ from: ALICE, to: M1 });

    expect(seen).toHaveLength(1);
    const req = seen[0]!;
    expect(req.method).toBe("POST");
    expect(req.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(req.signature).toMatchObject({ status: "valid", version: "v3" });
    expect(req.signature.nonce).toMatch(/^[1-9]\d{19}$/);
    expect(req.headers["x-vobiz-signature-ma-v3"]).toBeUndefined();
    expect(req.fields).toEqual({
      CallUUID: call.callUuid,
      From: ALICE,
      To: M1,
      Direction: "inbound",
      CallStatus: "ringing",
      Event: "StartApp",
      CallerName: ALICE,
      BillRate: expect.any(String),
    });
    expect(call.callUuid).toMatch(/^[0-9a-f-]{36}$/);

    expect(call.status).toBe(200);
    expect(call.contentType).toMatch(/^application\/xml/);
    expect(call.kind).toBe("dial");
    expect(call.dial).toEqual({
      callerId: M1,
      numbers: [BOB],
      timeout: 30,
      timeLimit: 3600,
      action: `${base}/dial-status?k=${SECRET}&x=1`,
      method: "POST",
      redirect: "false",
    });
    expect(call.problems).toEqual([]);
  });

  it("uses the given CallUUID and extra fields", async () => {
    const call = await sim().placeCall({ from: ALICE, to: M1, callUuid: "fixed-uuid", extra: { ForwardedFrom: "+911" } });
    expect(call.callUuid).toBe("fixed-uuid");
    expect(seen[0]!.fields).toMatchObject({ CallUUID: "fixed-uuid", ForwardedFrom: "+911" });
  });

  it("adds the A-leg ids only to outbound calls", async () => {
    await sim().placeCall({ from: ALICE, to: M1, callUuid: "out-1", direction: "outbound" });
    expect(seen[0]!.fields).toMatchObject({ Direction: "outbound", ALegUUID: "out-1", ALegRequestUUID: "out-1" });
    await sim().placeCall({ from: ALICE, to: M1 });
    expect(seen[1]!.fields).not.toHaveProperty("ALegUUID");
    expect(seen[1]!.fields).not.toHaveProperty("ALegRequestUUID");
  });

  it("reads a rejection with a spoken message, decoding hostile text", async () => {
    const call = await sim().placeCall({ from: "+919777700000", to: M1 });
    expect(call.kind).toBe("reject");
    expect(call.speak).toEqual([HOSTILE]);
    expect(call.hangupReason).toBe("rejected");
    expect(call.hangupFirst).toBe(false);
    expect(call.problems).toEqual([]);
  });

  it("reads a silent rejection with Hangup as the first verb", async () => {
    const call = await sim().placeCall({ from: BOB, to: M1 });
    expect(call.kind).toBe("reject");
    expect(call.speak).toBeUndefined();
    expect(call.hangupFirst).toBe(true);
  });

  it("with method GET puts the fields in the query next to the URL secret, still signed", async () => {
    const call = await sim({ method: "GET" }).placeCall({ from: ALICE, to: M1 });
    expect(seen[0]!.method).toBe("GET");
    expect(seen[0]!.fields).toMatchObject({ From: ALICE, To: M1, Event: "StartApp" });
    expect(seen[0]!.signature.status).toBe("valid");
    expect(call.request.url.startsWith(`${base}/answer?k=${SECRET}&CallUUID=`)).toBe(true);
    expect(call.kind).toBe("dial");
  });

  it("signs with V2 when configured", async () => {
    await sim({ signatureVersion: "v2" }).placeCall({ from: ALICE, to: M1 });
    expect(seen[0]!.signature).toMatchObject({ status: "valid", version: "v2" });
    expect(seen[0]!.headers["x-vobiz-signature-v3"]).toBeUndefined();
  });

  it("sends no signature in mode none, and a refusal is an http_error (cause 7011)", async () => {
    const call = await sim({ signatureVersion: "none" }).placeCall({ from: ALICE, to: M1 });
    expect(seen[0]!.signature.status).toBe("absent");
    expect(call).toMatchObject({ kind: "http_error", status: 401, hangupCauseCode: 7011 });
    expect(call.dial).toBeUndefined();
  });

  it("sends a bad signature when overridden", async () => {
    const call = await sim().placeCall({ from: ALICE, to: M1, signatureOverride: "A".repeat(43) + "=" });
    expect(seen[0]!.signature.status).toBe("invalid");
    expect(call).toMatchObject({ kind: "http_error", status: 403 });
  });

  it("signs with another token when asked", async () => {
    await sim().placeCall({ from: ALICE, to: M1, authToken: "wrong-token" });
    expect(seen[0]!.signature.status).toBe("invalid");
  });

  it("lets headersOverride remove the nonce header", async () => {
    await sim().placeCall({ from: ALICE, to: M1, headersOverride: { "x-vobiz-signature-v3-nonce": null } });
    expect(seen[0]!.headers["x-vobiz-signature-v3-nonce"]).toBeUndefined();
    expect(seen[0]!.signature.status).toBe("invalid");
  });

  it("adds the MA signature made with the parent token for a sub-account", async () => {
    serverToken = "not-the-app-token";
    serverParent = PARENT;
    const call = await sim({ parentAuthToken: PARENT }).placeCall({ from: ALICE, to: M1 });
    expect(seen[0]!.headers["x-vobiz-signature-ma-v3"]).toBeDefined();
    expect(seen[0]!.signature.status).toBe("valid");
    expect(call.kind).toBe("dial");
  });

  it("can send the MA signature instead of the account's own; signatureOverride then replaces the MA value", async () => {
    serverToken = PARENT;
    const subAccount = sim({ authToken: "sub-account-token", parentAuthToken: PARENT, masterSignatureOnly: true });
    const call = await subAccount.placeCall({ from: ALICE, to: M1 });
    expect(seen[0]!.headers["x-vobiz-signature-v3"]).toBeUndefined();
    expect(seen[0]!.signature).toMatchObject({ status: "valid", family: "ma-v3" });
    expect(call.kind).toBe("dial");

    await subAccount.placeCall({ from: ALICE, to: M1, signatureOverride: "A".repeat(43) + "=" });
    expect(seen[1]!.headers["x-vobiz-signature-ma-v3"]).toBe("A".repeat(43) + "=");
    expect(seen[1]!.headers["x-vobiz-signature-v3"]).toBeUndefined();
    expect(seen[1]!.signature.status).toBe("invalid");
  });

  it("classifies malformed XML as invalid_xml (cause 8011)", async () => {
    const call = await sim({ answerUrl: `${base}/broken` }).placeCall({ from: ALICE, to: M1 });
    expect(call).toMatchObject({ kind: "invalid_xml", status: 200, hangupCauseCode: 8011 });
    expect(call.error).toMatch(/&/);
  });

  it("reports a reply that is not served as XML", async () => {
    const call = await sim({ answerUrl: `${base}/html` }).placeCall({ from: ALICE, to: M1 });
    expect(call.kind).toBe("empty");
    expect(call.problems).toEqual([expect.stringMatching(/Content-Type is text\/html/)]);
  });

  it("treats a reply slower than the timeout as an http_error with status 0", async () => {
    const call = await sim({ answerUrl: `${base}/slow`, timeoutMs: 50 }).placeCall({ from: ALICE, to: M1 });
    expect(call).toMatchObject({ kind: "http_error", status: 0, hangupCauseCode: 7011 });
  });
});

describe("VobizSimulator.request", () => {
  it("can replay a nonce, which the server refuses", async () => {
    const s = sim();
    const url = `${base}/answer?k=${SECRET}`;
    const fields = { CallUUID: "replay-1", From: ALICE, To: M1, Direction: "inbound", CallStatus: "ringing", Event: "StartApp" };
    const nonce = randomNonce();
    const first = await s.request(url, fields, { nonce });
    const second = await s.request(url, fields, { nonce });
    expect(first.nonce).toBe(nonce);
    expect(first.status).toBe(200);
    expect(second.status).toBe(409);
    expect(seen.map((r) => r.signature.nonce)).toEqual([nonce, nonce]);
  });

  it("returns exactly what was sent for inspection", async () => {
    const res = await sim().request(`${base}/hangup?k=${SECRET}`, { A: "1" });
    expect(res.fields).toEqual({ A: "1" });
    expect(res.requestHeaders["X-Vobiz-Signature-V3-Nonce"]).toBe(res.nonce);
    expect(parseVobizXml(res.body).kind).toBe("empty");
  });
});

describe("VobizSimulator.completeCall", () => {
  it("for a bridged call, posts the signed Dial action and then the hangup notice to the answer URL", async () => {
    const s = sim();
    const call = await s.placeCall({ from: ALICE, to: M1 });
    seen = [];
    const done = await s.completeCall(call, { dialStatus: "completed", durationSeconds: 42 });

    expect(seen.map((r) => r.path)).toEqual(["/dial-status", "/answer"]);
    const [action, hangup] = seen as [Seen, Seen];
    expect(action.signature.status).toBe("valid");
    expect(action.fields).toMatchObject({
      CallUUID: call.callUuid,
      DialStatus: "completed",
      DialALegUUID: call.callUuid,
      DialHangupCause: "NORMAL_CLEARING",
      DialRingStatus: "true",
    });
    // The action URL came back decoded from the XML (&amp; -> &), so both query parameters arrived.
    expect(action.query).toBe(`?k=${SECRET}&x=1`);
    expect(action.fields.DialBLegUUID).toMatch(/^[0-9a-f-]{36}$/);
    expect(done.dialAction?.parsed.kind).toBe("empty");

    expect(hangup.signature.status).toBe("valid");
    expect(hangup.fields).toMatchObject({
      CallUUID: call.callUuid,
      From: ALICE,
      To: M1,
      Event: "Hangup",
      CallStatus: "completed",
      Duration: "42",
      BillDuration: "60",
      HangupCause: "NORMAL_CLEARING",
      HangupCauseCode: "4000",
      StartTime: vobizTime(call.startedAt),
      AnswerTime: vobizTime(call.startedAt),
      EndTime: vobizTime(new Date(call.startedAt.getTime() + 42_000)),
    });
    expect(hangup.fields.EndTime).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(done.hangup.parsed.kind).toBe("empty");
  });

  it("reports a busy Dial with its cause, and ends the A-leg normally", async () => {
    const s = sim();
    const call = await s.placeCall({ from: ALICE, to: M1 });
    seen = [];
    await s.completeCall(call, { dialStatus: "busy", durationSeconds: 3 });
    expect(seen[0]!.fields).toMatchObject({ DialStatus: "busy", DialHangupCause: "USER_BUSY", DialRingStatus: "false" });
    expect(seen[1]!.fields).toMatchObject({ HangupCauseCode: "4000", Duration: "3" });
  });

  it("sends the hangup notice to hangup_url when one is configured", async () => {
    const s = sim({ hangupUrl: `${base}/hangup?k=${SECRET}` });
    const call = await s.placeCall({ from: ALICE, to: M1 });
    seen = [];
    await s.completeCall(call, { durationSeconds: 10 });
    expect(seen.map((r) => r.path)).toEqual(["/dial-status", "/hangup"]);
    expect(seen[1]!.signature.status).toBe("valid");
    expect(seen[1]!.fields).toMatchObject({ Event: "Hangup", CallStatus: "completed" });
  });

  it("for a silent rejection, sends only an unanswered CALL_REJECTED notice (3020)", async () => {
    const s = sim();
    const call = await s.placeCall({ from: BOB, to: M1 });
    seen = [];
    const done = await s.completeCall(call, { durationSeconds: 99 });
    expect(done.dialAction).toBeUndefined();
    expect(seen).toHaveLength(1);
    expect(seen[0]!.fields).toMatchObject({
      Event: "Hangup",
      CallStatus: "completed",
      HangupCause: "CALL_REJECTED",
      HangupCauseCode: "3020",
      Duration: "0",
      BillDuration: "0",
      AnswerTime: "",
    });
  });

  it("for a rejection with a message, reports the answered time it took to speak", async () => {
    const s = sim();
    const call = await s.placeCall({ from: "+919777700000", to: M1 });
    seen = [];
    await s.completeCall(call, { durationSeconds: 4 });
    expect(seen[0]!.fields).toMatchObject({ HangupCauseCode: "3020", Duration: "4", BillDuration: "60" });
    expect(seen[0]!.fields.AnswerTime).not.toBe("");
  });
});

describe("VobizSimulator.sendHangup", () => {
  it("posts a standalone end-of-call notice with the given cause", async () => {
    const res = await sim().sendHangup({
      callUuid: "h-1",
      from: ALICE,
      to: M1,
      callStatus: "no-answer",
      hangupCause: "NO_ANSWER",
      hangupCauseCode: 3000,
    });
    expect(res.status).toBe(200);
    expect(seen[0]!.fields).toMatchObject({
      CallUUID: "h-1",
      Event: "Hangup",
      CallStatus: "no-answer",
      HangupCause: "NO_ANSWER",
      HangupCauseCode: "3000",
      Duration: "0",
      AnswerTime: "",
    });
  });
});

describe("parseVobizXml", () => {
  it("keeps verb order and several ringing numbers", () => {
    const parsed = parseVobizXml(
      '<Response><Speak>Connecting</Speak><Dial callerId="+91900" timeout="20"><Number>+91981</Number>' +
        "<Number>+91982</Number></Dial></Response>",
    );
    expect(parsed.kind).toBe("dial");
    expect(parsed.verbs.map((v) => v.name)).toEqual(["Speak", "Dial"]);
    expect(parsed.dial).toEqual({ callerId: "+91900", numbers: ["+91981", "+91982"], timeout: 20 });
    expect(parsed.problems).toEqual([]);
  });

  it("treats <Response/> and <Response></Response> as empty", () => {
    expect(parseVobizXml("<Response/>").kind).toBe("empty");
    expect(parseVobizXml(emptyXml()).kind).toBe("empty");
  });

  it("refuses several roots or a root other than Response", () => {
    expect(parseVobizXml("<Response/><Response/>").kind).toBe("invalid_xml");
    expect(parseVobizXml("<Reply><Hangup/></Reply>").kind).toBe("invalid_xml");
    expect(parseVobizXml("").kind).toBe("invalid_xml");
  });

  it("refuses a bare & or <", () => {
    expect(parseVobizXml("<Response><Speak>a & b</Speak></Response>").kind).toBe("invalid_xml");
    expect(parseVobizXml("<Response><Speak>a < b</Speak></Response>").kind).toBe("invalid_xml");
  });

  it("classifies a reply without Dial or Hangup as other", () => {
    expect(parseVobizXml("<Response><Speak>Hello</Speak></Response>").kind).toBe("other");
  });

  it("reports protocol breaches the parser alone accepts", () => {
    const parsed = parseVobizXml(
      '<Response><Hangup reason="nope"/><Dial action="/relative" timeout="abc"><Number>+91</Number></Dial>' +
        "<Blink/></Response>",
    );
    expect(parsed.problems).toEqual([
      expect.stringMatching(/reason must be rejected\|busy/),
      expect.stringMatching(/action is not an absolute URL/),
      expect.stringMatching(/no callerId/),
      expect.stringMatching(/timeout is not a positive integer/),
      expect.stringMatching(/<Blink> is not a VobizXML verb/),
    ]);
  });

  it("reports a reply over 100 KB", () => {
    const parsed = parseVobizXml(`<Response><Speak>${"a".repeat(100 * 1024)}</Speak></Response>`);
    expect(parsed.problems).toEqual([expect.stringMatching(/100 KB/)]);
  });
});
