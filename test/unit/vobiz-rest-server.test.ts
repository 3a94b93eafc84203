import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { verifyVobizSignature, type VerifySignatureResult } from "../../server/src/vobiz/signature.js";
import { emptyXml } from "../../server/src/vobiz/xml.js";
import { VobizRestServer, pseudoAudio } from "../sim/vobiz-rest-server.js";
import { VobizSimulator } from "../sim/vobiz-simulator.js";

/**
 * The simulator's REST side on its own: how it authenticates and routes, the recordings it keeps, and how it plays
 * the carrier's callbacks for a call placed through it, against a tiny HTTP server standing in for Maskline that
 * verifies every signature with the server's own verifier.
 */
const TOKEN = "sim-account-token";
const ACCOUNT = { authId: "MA_SIM1", authToken: TOKEN };
const OTHER = { authId: "MA_SIM2", authToken: "other-token" };
const AUTH = { "X-Auth-ID": ACCOUNT.authId, "X-Auth-Token": TOKEN };
const SECRET = "s3cr3t";
const DID = "+919000000001";
const ALICE = "+919888800001";
const BOB = "+919888800002";

interface Seen {
  method: string;
  path: string;
  fields: Record<string, string>;
  signature: VerifySignatureResult;
}

let rest: VobizRestServer;
let maskline: Server;
let base: string;
let seen: Seen[] = [];

function xml(res: ServerResponse, body: string) {
  res.writeHead(200, { "content-type": "application/xml" });
  res.end(body);
}

/** What Maskline would answer: a recorded bridge for outbound calls, a PIN prompt for inbound ones. */
function replyTo(path: string, fields: Record<string, string>): string {
  const dial = `<Dial callerId="${DID}" timeout="30" action="${base}/dial-status?k=${SECRET}"><Number>${BOB}</Number></Dial>`;
  if (path === "/answer" && fields.Direction === "outbound") {
    return `<Response><Speak>This call is recorded.</Speak><Record recordSession="true" fileFormat="mp3" callbackUrl="${base}/recording?k=${SECRET}"/>${dial}</Response>`;
  }
  const gather = `<Gather action="${base}/pin?k=${SECRET}" method="GET" numDigits="4" executionTimeout="10"><Speak>Enter your PIN</Speak></Gather>`;
  if (path === "/answer") return `<Response>${gather}</Response>`;
  if (path === "/pin") return fields.Digits === "1234" ? `<Response>${dial}</Response>` : `<Response>${gather}</Response>`;
  return emptyXml();
}

async function api(method: string, path: string, init: { headers?: Record<string, string>; json?: unknown } = {}) {
  const headers = { ...(init.headers ?? AUTH), ...(init.json === undefined ? {} : { "Content-Type": "application/json" }) };
  const res = await fetch(`${rest.baseUrl}${path}`, { method, headers, body: init.json === undefined ? undefined : JSON.stringify(init.json) });
  const text = await res.text();
  return { status: res.status, body: text === "" ? undefined : (JSON.parse(text) as Record<string, unknown>) };
}

const CALL = {
  from: DID,
  to: ALICE,
  answer_method: "POST",
  hangup_method: "GET",
  time_limit: 3600,
  ring_timeout: 30,
};

async function placeCall(): Promise<string> {
  const res = await api("POST", `/Account/${ACCOUNT.authId}/Call/`, {
    json: { ...CALL, answer_url: `${base}/answer?k=${SECRET}`, hangup_url: `${base}/hangup?k=${SECRET}` },
  });
  expect(res.status).toBe(201);
  return res.body!.request_uuid as string;
}

beforeAll(async () => {
  rest = await VobizRestServer.start({ accounts: [ACCOUNT, OTHER] });
  maskline = createServer((req, res) => {
    let raw = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (raw += c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", base);
      const fields = Object.fromEntries(req.method === "GET" ? url.searchParams : new URLSearchParams(raw));
      delete fields.k;
      const signature = verifyVobizSignature({ headers: req.headers, url: base + (req.url ?? "/"), authToken: TOKEN });
      seen.push({ method: req.method ?? "", path: url.pathname, fields, signature });
      xml(res, replyTo(url.pathname, fields));
    });
  });
  await new Promise<void>((resolve) => maskline.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(maskline.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await rest.close();
  maskline.closeAllConnections();
  await new Promise<void>((resolve) => maskline.close(() => resolve()));
});

beforeEach(() => {
  seen = [];
  rest.requests.length = 0;
});

describe("authentication and routing", () => {
  it("refuses missing or wrong X-Auth headers with 401 and Plivo's error body", async () => {
    const refused: Array<Record<string, string>> = [{}, { "X-Auth-ID": ACCOUNT.authId, "X-Auth-Token": "wrong" }, { "X-Auth-ID": "nobody", "X-Auth-Token": TOKEN }];
    for (const headers of refused) {
      const res = await api("GET", `/Account/${ACCOUNT.authId}/Recording/`, { headers });
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ api_id: expect.any(String), error: "authentication failed" });
    }
  });

  it("refuses valid credentials on another account's path", async () => {
    const res = await api("GET", `/Account/${OTHER.authId}/Recording/`);
    expect(res.status).toBe(403);
  });

  it("routes as strictly as the API: no trailing slash, or another case, is a 404", async () => {
    expect((await api("GET", `/Account/${ACCOUNT.authId}/Recording`)).status).toBe(404);
    expect((await api("GET", `/Account/${ACCOUNT.authId}/recording/`)).status).toBe(404);
    expect((await api("GET", `/account/${ACCOUNT.authId}/Recording/`)).status).toBe(404);
  });

  it("records each request's method, exact path, query, headers and parsed body", async () => {
    await api("GET", `/Account/${ACCOUNT.authId}/Recording/?limit=5&call_uuid=c-1`);
    expect(rest.requests[0]).toMatchObject({
      method: "GET",
      path: `/api/v1/Account/${ACCOUNT.authId}/Recording/`,
      query: { limit: "5", call_uuid: "c-1" },
      body: undefined,
      status: 200,
    });
    expect(rest.requests[0]!.headers["x-auth-token"]).toBe(TOKEN);
  });
});

describe("POST Call/", () => {
  it("stores the placed call and answers 201 with its request_uuid", async () => {
    const uuid = await placeCall();
    expect(rest.calls.get(uuid)).toEqual({
      requestUuid: uuid,
      authId: ACCOUNT.authId,
      from: DID,
      to: ALICE,
      answerUrl: `${base}/answer?k=${SECRET}`,
      answerMethod: "POST",
      hangupUrl: `${base}/hangup?k=${SECRET}`,
      hangupMethod: "GET",
      timeLimit: 3600,
      ringTimeout: 30,
      status: "queued",
    });
  });

  it.each(["from", "to", "answer_url", "answer_method", "hangup_url", "hangup_method", "time_limit"])(
    "refuses a body without %s with 400 naming it",
    async (field) => {
      const json: Record<string, unknown> = { ...CALL, answer_url: `${base}/answer`, hangup_url: `${base}/hangup` };
      delete json[field];
      const res = await api("POST", `/Account/${ACCOUNT.authId}/Call/`, { json });
      expect(res.status).toBe(400);
      expect(res.body!.error).toBe(`${field} is required`);
    },
  );

  it("refuses mistyped fields", async () => {
    const json = { ...CALL, answer_url: "/answer", hangup_url: `${base}/hangup` };
    expect((await api("POST", `/Account/${ACCOUNT.authId}/Call/`, { json })).body!.error).toBe("answer_url must be an absolute http(s) URL");
    const json2 = { ...CALL, time_limit: "3600", answer_url: `${base}/a`, hangup_url: `${base}/h` };
    expect((await api("POST", `/Account/${ACCOUNT.authId}/Call/`, { json: json2 })).body!.error).toBe("time_limit must be a positive integer");
  });

  it("answers an injected failure once, without placing the call, then normally", async () => {
    const before = rest.calls.size;
    rest.failNext(402, "insufficient balance");
    const json = { ...CALL, answer_url: `${base}/a`, hangup_url: `${base}/h` };
    const refused = await api("POST", `/Account/${ACCOUNT.authId}/Call/`, { json });
    expect(refused).toEqual({ status: 402, body: { api_id: expect.any(String), error: "insufficient balance" } });
    expect(rest.calls.size).toBe(before);
    expect((await api("POST", `/Account/${ACCOUNT.authId}/Call/`, { json })).status).toBe(201);
  });

  it("hangs up a live call once (204), then no longer knows it (404)", async () => {
    const uuid = await placeCall();
    expect((await api("DELETE", `/Account/${ACCOUNT.authId}/Call/${uuid}/`)).status).toBe(204);
    expect(rest.calls.get(uuid)!.status).toBe("canceled");
    expect((await api("DELETE", `/Account/${ACCOUNT.authId}/Call/${uuid}/`)).status).toBe(404);
  });
});

describe("recordings", () => {
  it("lives through add, list, get, media and delete, after which get and media are 404", async () => {
    const rec = rest.addRecording({ authId: ACCOUNT.authId, callUuid: "call-L", durationMs: 7_250 });
    const path = `/Account/${ACCOUNT.authId}/Recording/${rec.recordingId}/`;

    const list = await api("GET", `/Account/${ACCOUNT.authId}/Recording/?call_uuid=call-L`);
    expect(list.body!.meta).toEqual({ limit: 20, offset: 0, total_count: 1, next: null, previous: null });
    const got = await api("GET", path);
    expect(got.body).toMatchObject({
      recording_id: rec.recordingId,
      call_uuid: "call-L",
      recording_url: `${rest.origin}/media/${rec.recordingId}.mp3`,
      recording_format: "mp3",
      recording_duration_ms: "7250",
      add_time: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/),
      resource_uri: `/api/v1${path}`,
    });
    expect((list.body!.objects as unknown[])[0]).toEqual({ ...got.body, api_id: undefined });

    expect((await fetch(rec.recordUrl)).status).toBe(401);
    expect((await fetch(rec.recordUrl, { headers: { "X-Auth-ID": OTHER.authId, "X-Auth-Token": OTHER.authToken } })).status).toBe(401);
    const media = await fetch(rec.recordUrl, { headers: AUTH });
    expect(media.headers.get("content-type")).toBe("audio/mpeg");
    expect(Buffer.from(await media.arrayBuffer()).equals(rec.bytes)).toBe(true);
    expect(rec.bytes.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xfb]));

    expect((await api("DELETE", path)).status).toBe(204);
    expect((await api("GET", path)).status).toBe(404);
    expect((await fetch(rec.recordUrl, { headers: AUTH })).status).toBe(404);
    expect((await api("DELETE", path)).status).toBe(404);
  });

  it("pages newest first with Plivo's meta links, at most 20 a page", async () => {
    const t0 = Date.parse("2024-01-01T00:00:00Z");
    const recs = [0, 1, 2].map((i) => rest.addRecording({ authId: ACCOUNT.authId, callUuid: "call-P", addedAt: new Date(t0 + i * 1000) }));
    const page = await api("GET", `/Account/${ACCOUNT.authId}/Recording/?call_uuid=call-P&limit=2&offset=1`);
    expect((page.body!.objects as Array<{ recording_id: string }>).map((o) => o.recording_id)).toEqual([recs[1]!.recordingId, recs[0]!.recordingId]);
    expect(page.body!.meta).toEqual({
      limit: 2,
      offset: 1,
      total_count: 3,
      next: null,
      previous: `/api/v1/Account/${ACCOUNT.authId}/Recording/?limit=2&offset=0&call_uuid=call-P`,
    });
    expect((await api("GET", `/Account/${ACCOUNT.authId}/Recording/?limit=21`)).status).toBe(400);
  });

  it("makes the same default bytes for the same id, WAV with a RIFF header", async () => {
    const wav = rest.addRecording({ authId: ACCOUNT.authId, callUuid: "call-W", format: "wav" });
    expect(wav.bytes.subarray(0, 4).toString()).toBe("RIFF");
    expect(wav.bytes.subarray(8, 12).toString()).toBe("WAVE");
    expect(wav.recordUrl.endsWith(".wav")).toBe(true);
    expect(pseudoAudio(wav.recordingId, "wav").equals(wav.bytes)).toBe(true);
  });
});

describe("a placed call, driven like the carrier", () => {
  it("answers with a signed request to answer_url carrying the outbound fields, and reads the reply", async () => {
    const uuid = await placeCall();
    const result = await rest.answerPlacedCall(uuid);

    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: "POST", path: "/answer" });
    expect(seen[0]!.signature).toMatchObject({ status: "valid", version: "v3" });
    expect(seen[0]!.fields).toMatchObject({
      CallUUID: uuid,
      From: DID,
      To: ALICE,
      Direction: "outbound",
      CallStatus: "in-progress",
      Event: "StartApp",
      ALegUUID: uuid,
      ALegRequestUUID: uuid,
    });
    expect(result).toMatchObject({ callUuid: uuid, direction: "outbound", kind: "dial", problems: [] });
    expect(result.record).toEqual({ recordSession: true, fileFormat: "mp3", callbackUrl: `${base}/recording?k=${SECRET}` });
    expect(rest.calls.get(uuid)!.status).toBe("in-progress");
  });

  it("completes it: the Dial action, the recording callback (with a real recording), then the hangup notice by hangup_method", async () => {
    const uuid = await placeCall();
    const result = await rest.answerPlacedCall(uuid);
    seen = [];
    const done = await rest.completePlacedCall(uuid, result, { durationSeconds: 42 });

    expect(seen.map((s) => `${s.method} ${s.path}`)).toEqual(["POST /dial-status", "POST /recording", "GET /hangup"]);
    expect(seen.every((s) => s.signature.status === "valid")).toBe(true);
    const [dial, recording, hangup] = seen as [Seen, Seen, Seen];
    expect(dial.fields).toMatchObject({ CallUUID: uuid, DialStatus: "completed", Direction: "outbound" });

    const rec = rest.recordings.get(recording.fields.RecordingID!)!;
    expect(rec).toMatchObject({ authId: ACCOUNT.authId, callUuid: uuid, format: "mp3", durationMs: 42_000 });
    expect(recording.fields).toEqual({
      CallUUID: uuid,
      RecordingID: rec.recordingId,
      RecordUrl: rec.recordUrl,
      RecordingDuration: "42",
      RecordingDurationMs: "42000",
      RecordingStartMs: String(Number(recording.fields.RecordingEndMs) - 42_000),
      RecordingEndMs: expect.stringMatching(/^\d{13}$/),
      RecordingFormat: "mp3",
    });
    expect(done.recording?.recordingId).toBe(rec.recordingId);
    const media = await fetch(recording.fields.RecordUrl!, { headers: AUTH });
    expect(Buffer.from(await media.arrayBuffer()).equals(rec.bytes)).toBe(true);

    expect(hangup.fields).toMatchObject({
      CallUUID: uuid,
      Direction: "outbound",
      Event: "Hangup",
      CallStatus: "completed",
      Duration: "42",
      HangupCause: "NORMAL_CLEARING",
      HangupCauseCode: "4000",
      ALegRequestUUID: uuid,
    });
    expect(hangup.fields.AnswerTime).not.toBe("");
    expect(rest.calls.get(uuid)!.status).toBe("completed");
  });

  it("can leave the recording out", async () => {
    const uuid = await placeCall();
    const result = await rest.answerPlacedCall(uuid);
    seen = [];
    const done = await rest.completePlacedCall(uuid, result, { recording: false });
    expect(seen.map((s) => s.path)).toEqual(["/dial-status", "/hangup"]);
    expect(done.recording).toBeUndefined();
  });

  it("fails an unanswered call with only the hangup notice and the matching cause", async () => {
    const uuid = await placeCall();
    await rest.failPlacedCall(uuid, "busy");
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: "GET", path: "/hangup" });
    expect(seen[0]!.signature.status).toBe("valid");
    expect(seen[0]!.fields).toMatchObject({
      CallUUID: uuid,
      Direction: "outbound",
      Event: "Hangup",
      CallStatus: "busy",
      HangupCause: "USER_BUSY",
      HangupCauseCode: "3010",
      Duration: "0",
      AnswerTime: "",
    });
    expect(rest.calls.get(uuid)!.status).toBe("busy");
  });

  it("refuses to drive a call it never placed", async () => {
    await expect(rest.answerPlacedCall("never-placed")).rejects.toThrow(/no placed call/);
  });
});

describe("VobizSimulator inbound flows", () => {
  const sim = () => new VobizSimulator({ authToken: TOKEN, answerUrl: `${base}/answer?k=${SECRET}` });

  it("enters digits at a Gather: a signed callback by the Gather's method, read like an answer reply", async () => {
    const s = sim();
    const call = await s.placeCall({ from: ALICE, to: DID });
    expect(call.gather).toMatchObject({ action: `${base}/pin?k=${SECRET}`, method: "GET", numDigits: 4, prompt: "Enter your PIN" });

    const wrong = await s.enterDigits(call, "9999");
    expect(wrong.kind).toBe("other");
    expect(wrong.gather).toBeDefined();
    const right = await s.enterDigits(wrong, "1234");
    expect(right).toMatchObject({ callUuid: call.callUuid, kind: "dial", problems: [] });
    expect(right.dial?.numbers).toEqual([BOB]);

    expect(seen.map((x) => `${x.method} ${x.path}`)).toEqual(["POST /answer", "GET /pin", "GET /pin"]);
    expect(seen[2]!.signature.status).toBe("valid");
    expect(seen[2]!.fields).toEqual({
      CallUUID: call.callUuid,
      From: ALICE,
      To: DID,
      Direction: "inbound",
      CallStatus: "in-progress",
      Digits: "1234",
      InputType: "dtmf",
    });
  });

  it("refuses to enter digits when the reply has no Gather", async () => {
    const s = sim();
    const call = await s.placeCall({ from: ALICE, to: DID });
    const dialled = await s.enterDigits(call, "1234");
    await expect(s.enterDigits(dialled, "1")).rejects.toThrow(/no <Gather action>/);
  });

  it("posts a recording callback for a recording it is given, or one it creates on the REST side", async () => {
    const uuid = await placeCall();
    const result = await rest.answerPlacedCall(uuid);
    const s = sim();
    seen = [];
    await s.postRecording(result, { recordingId: "rec-given", recordUrl: "https://media.example.com/rec-given.wav", durationSeconds: 3 });
    expect(seen[0]!.signature.status).toBe("valid");
    expect(seen[0]!.fields).toMatchObject({ RecordingID: "rec-given", RecordingDuration: "3", RecordingDurationMs: "3000", RecordingFormat: "wav" });

    const made = await s.postRecording(result, rest, { durationMs: 1_500 });
    expect(rest.recordings.get(made.recordingId)).toMatchObject({ authId: ACCOUNT.authId, callUuid: uuid, durationMs: 1_500 });
    expect(seen[1]!.fields).toMatchObject({ RecordingID: made.recordingId, RecordUrl: made.recordUrl, RecordingDuration: "2" });
  });
});
