import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  CarrierError,
  CarrierOutcomeUnknown,
  CarrierUnreachable,
  type CarrierAccount,
  type PlaceCallRequest,
} from "../../server/src/carrier/carrier.js";
import { createVobizRestCarrier, type VobizRestCarrier, type VobizRestOptions } from "../../server/src/carrier/vobiz-rest.js";
import type { Resolver } from "../../server/src/outbound/endpoint-url.js";
import { VobizRestServer } from "../sim/vobiz-rest-server.js";

/**
 * The Vobiz REST client against the simulator's REST side over real sockets: what goes on the wire (method, path
 * casing and trailing slash, headers, JSON fields), how each failure is classified, and that the auth token goes
 * to the API origin only and never into an error.
 */
const TOKEN = "tok-9f8e7d6c5b4a-secret";
const ACCOUNT: CarrierAccount = { authId: "MA_ZYX123", authToken: TOKEN };
const CALL: PlaceCallRequest = {
  from: "+919000000001",
  to: "+919888800001",
  answerUrl: "https://masking.example.com/v1/vobiz/app_1/answer?k=s3cr3t",
  answerMethod: "POST",
  hangupUrl: "https://masking.example.com/v1/vobiz/app_1/hangup?k=s3cr3t",
  hangupMethod: "POST",
  timeLimitSeconds: 3600,
  ringTimeoutSeconds: 30,
};

let rest: VobizRestServer;
const carriers: VobizRestCarrier[] = [];

function carrier(overrides: Partial<VobizRestOptions> = {}): VobizRestCarrier {
  const c = createVobizRestCarrier({ baseUrl: rest.baseUrl, allowPrivateMedia: true, ...overrides });
  carriers.push(c);
  return c;
}

/** The rejection of `promise`, which must reject. */
async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a rejection");
}

/** Everything an error shows: its own properties, message and stack. */
function everything(err: Error): string {
  return `${JSON.stringify(err)} ${err.message} ${err.stack ?? ""} ${String(err)}`;
}

async function drain(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

beforeAll(async () => {
  rest = await VobizRestServer.start({ accounts: [ACCOUNT] });
});

afterAll(async () => {
  await rest.close();
});

beforeEach(() => {
  rest.requests.length = 0;
});

afterEach(() => {
  for (const c of carriers.splice(0)) c.close();
});

describe("placeCall", () => {
  it("POSTs the call as JSON to /Account/{auth_id}/Call/ with the X-Auth headers and returns the request_uuid", async () => {
    const placed = await carrier().placeCall(ACCOUNT, CALL);

    expect(rest.requests).toHaveLength(1);
    const req = rest.requests[0]!;
    expect(req.method).toBe("POST");
    expect(req.path).toBe("/api/v1/Account/MA_ZYX123/Call/");
    expect(req.query).toEqual({});
    expect(req.headers["x-auth-id"]).toBe("MA_ZYX123");
    expect(req.headers["x-auth-token"]).toBe(TOKEN);
    expect(req.headers.authorization).toBeUndefined();
    expect(req.headers["content-type"]).toBe("application/json");
    expect(req.body).toEqual({
      from: CALL.from,
      to: CALL.to,
      answer_url: CALL.answerUrl,
      answer_method: "POST",
      hangup_url: CALL.hangupUrl,
      hangup_method: "POST",
      time_limit: 3600,
      ring_timeout: 30,
    });

    expect(placed.requestUuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(placed.message).toBe("Call fired");
    expect(placed.apiId).toEqual(expect.any(String));
    expect(rest.calls.get(placed.requestUuid)).toMatchObject({ from: CALL.from, to: CALL.to, timeLimit: 3600, ringTimeout: 30, status: "queued" });
  });

  it("puts the auth id into the path URL-encoded", async () => {
    const odd: CarrierAccount = { authId: "SA/1 x?y", authToken: "odd-token" };
    rest.addAccount(odd);
    await carrier().placeCall(odd, CALL);
    expect(rest.requests[0]!.path).toBe("/api/v1/Account/SA%2F1%20x%3Fy/Call/");
    expect(rest.requests[0]!.status).toBe(201);
  });

  it("accepts a trailing slash on the configured base URL without doubling it", async () => {
    await carrier({ baseUrl: `${rest.baseUrl}/` }).placeCall(ACCOUNT, CALL);
    expect(rest.requests[0]!.path).toBe("/api/v1/Account/MA_ZYX123/Call/");
  });

  it.each([
    [402, "insufficient balance"],
    [429, "too many calls per second"],
    [500, "internal error"],
    [503, "service unavailable"],
  ])("turns a %i into a CarrierError with the carrier's reason, and places nothing", async (status, reason) => {
    const before = rest.calls.size;
    rest.failNext(status, reason);
    const err = await failure(carrier().placeCall(ACCOUNT, CALL));
    expect(err).toBeInstanceOf(CarrierError);
    expect(err).toMatchObject({ operation: "place call", status, reason });
    expect(rest.calls.size).toBe(before);
  });

  it("reads a refusal's `message` when it has no `error`", async () => {
    rest.respondNext(400, { api_id: "a", message: "to is not a valid number" });
    expect(await failure(carrier().placeCall(ACCOUNT, CALL))).toMatchObject({ status: 400, reason: "to is not a valid number" });
  });

  it("keeps a plain-text refusal as a bounded reason without control characters", async () => {
    rest.respondNext(503, `Service\u0007 down\r\n\u202eevil ${"x".repeat(500)}`);
    const err = (await failure(carrier().placeCall(ACCOUNT, CALL))) as CarrierError;
    expect(err.status).toBe(503);
    expect(err.reason.startsWith("Service down evil xxx")).toBe(true);
    expect(Array.from(err.reason).length).toBeLessThanOrEqual(200);
    expect(err.reason).not.toMatch(/[\u0000-\u001f\u007f\u202e]/);
  });

  it("names the status when the refusal has no body", async () => {
    rest.respondNext(502, undefined);
    expect(await failure(carrier().placeCall(ACCOUNT, CALL))).toMatchObject({ status: 502, reason: "Bad Gateway" });
  });

  it("drops the query (the app's URL secret) of a URL the carrier echoes in its reason", async () => {
    rest.failNext(400, `invalid answer_url ${CALL.answerUrl}`);
    const err = (await failure(carrier().placeCall(ACCOUNT, CALL))) as CarrierError;
    expect(err.reason).toBe("invalid answer_url https://masking.example.com/v1/vobiz/app_1/answer?…");
  });

  it("does not follow a redirect: a 3xx is a refusal", async () => {
    rest.respondNext(301, "moved");
    expect(await failure(carrier().placeCall(ACCOUNT, CALL))).toMatchObject({ name: "CarrierError", status: 301 });
    expect(rest.requests).toHaveLength(1);
  });

  it("reports an answer that never comes as CarrierOutcomeUnknown within the place-call timeout (the call was placed)", async () => {
    rest.stallNext(3_000);
    const started = performance.now();
    const err = await failure(carrier({ timeouts: { placeCallMs: 300 } }).placeCall(ACCOUNT, CALL));
    const elapsed = performance.now() - started;

    expect(err).toBeInstanceOf(CarrierOutcomeUnknown);
    expect(err).toMatchObject({ operation: "place call", why: "timeout" });
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(1_500);
    // Which is why it must never be retried blindly: the carrier did fire it.
    expect([...rest.calls.values()].some((c) => c.to === CALL.to && c.status === "queued")).toBe(true);
  });

  it("reports a 2xx without a request_uuid as CarrierOutcomeUnknown (the call may ring)", async () => {
    rest.respondNext(201, { api_id: "a", message: "Call fired" });
    expect(await failure(carrier().placeCall(ACCOUNT, CALL))).toMatchObject({ name: "CarrierOutcomeUnknown", operation: "place call" });
    rest.respondNext(200, "not json");
    expect(await failure(carrier().placeCall(ACCOUNT, CALL))).toBeInstanceOf(CarrierOutcomeUnknown);
  });

  it("reads a one-element request_uuid list (Plivo's bulk shape)", async () => {
    rest.respondNext(201, { api_id: "a", request_uuid: ["uuid-1"], message: "Call fired" });
    expect(await carrier().placeCall(ACCOUNT, CALL)).toEqual({ requestUuid: "uuid-1", apiId: "a", message: "Call fired" });
  });

  it("treats a 2xx answer over 1 MiB as a protocol error with an unknown outcome", async () => {
    rest.respondNext(201, "x".repeat(1024 * 1024 + 10));
    expect(await failure(carrier().placeCall(ACCOUNT, CALL))).toMatchObject({ name: "CarrierOutcomeUnknown", why: "answer over 1 MiB" });
  });

  it("reports a closed port as CarrierUnreachable: nothing reached the carrier", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const err = await failure(carrier({ baseUrl: `http://127.0.0.1:${port}/api/v1` }).placeCall(ACCOUNT, CALL));
    expect(err).toBeInstanceOf(CarrierUnreachable);
    expect(err).toMatchObject({ operation: "place call", why: "connection refused" });
  });

  it("reports a name that does not resolve as CarrierUnreachable", async () => {
    const resolve: Resolver = async () => {
      throw new Error("NXDOMAIN");
    };
    const err = await failure(carrier({ baseUrl: "https://api.vobiz.test/api/v1", resolve }).placeCall(ACCOUNT, CALL));
    expect(err).toMatchObject({ name: "CarrierUnreachable", why: "dns failure" });
  });

  it("reports a connection reset after the request was sent as CarrierOutcomeUnknown", async () => {
    const resetting = createServer((req) => req.on("data", () => undefined).on("end", () => req.socket.destroy()));
    await new Promise<void>((resolve) => resetting.listen(0, "127.0.0.1", resolve));
    const { port } = resetting.address() as AddressInfo;
    try {
      const err = await failure(carrier({ baseUrl: `http://127.0.0.1:${port}/api/v1` }).placeCall(ACCOUNT, CALL));
      expect(err).toBeInstanceOf(CarrierOutcomeUnknown);
      expect(err).toMatchObject({ why: "connection reset" });
    } finally {
      await new Promise<void>((resolve) => resetting.close(() => resolve()));
    }
  });

  it("refuses a base URL with credentials or a query at construction", () => {
    expect(() => createVobizRestCarrier({ baseUrl: "https://u:p@api.vobiz.ai/api/v1", allowPrivateMedia: false })).toThrow(TypeError);
    expect(() => createVobizRestCarrier({ baseUrl: "https://api.vobiz.ai/api/v1?x=1", allowPrivateMedia: false })).toThrow(TypeError);
    expect(() => createVobizRestCarrier({ baseUrl: "ftp://api.vobiz.ai/", allowPrivateMedia: false })).toThrow(TypeError);
  });
});

describe("hangUpCall", () => {
  it("DELETEs /Account/{auth_id}/Call/{uuid}/ without a body", async () => {
    const c = carrier();
    const placed = await c.placeCall(ACCOUNT, CALL);
    rest.requests.length = 0;
    await c.hangUpCall(ACCOUNT, placed.requestUuid);

    const req = rest.requests[0]!;
    expect(req).toMatchObject({ method: "DELETE", path: `/api/v1/Account/MA_ZYX123/Call/${placed.requestUuid}/`, status: 204 });
    expect(req.body).toBeUndefined();
    expect(req.headers["content-type"]).toBeUndefined();
    expect(req.headers["x-auth-token"]).toBe(TOKEN);
    expect(rest.calls.get(placed.requestUuid)!.status).toBe("canceled");
  });

  it("counts a call the carrier no longer knows (404) as hung up", async () => {
    await expect(carrier().hangUpCall(ACCOUNT, "gone-uuid")).resolves.toBeUndefined();
    expect(rest.requests[0]!.status).toBe(404);
  });

  it("refuses an empty call uuid instead of taking the carrier's 404 for success", async () => {
    await expect(carrier().hangUpCall(ACCOUNT, "")).rejects.toThrow(RangeError);
    expect(rest.requests).toHaveLength(0);
  });

  it("still throws on any other refusal", async () => {
    rest.failNext(500, "boom");
    expect(await failure(carrier().hangUpCall(ACCOUNT, "x"))).toMatchObject({ name: "CarrierError", operation: "hang up call", status: 500 });
  });
});

describe("recordings", () => {
  it("lists with limit, offset and call_uuid in the query, reading Plivo's recording objects", async () => {
    const addedAt = new Date("2024-05-06T07:08:09Z");
    const first = rest.addRecording({ authId: ACCOUNT.authId, callUuid: "call-A", durationMs: 12_345, addedAt });
    rest.addRecording({ authId: ACCOUNT.authId, callUuid: "call-A", format: "wav", addedAt: new Date(addedAt.getTime() + 1000) });
    rest.addRecording({ authId: ACCOUNT.authId, callUuid: "call-B", addedAt });

    const page = await carrier().listRecordings(ACCOUNT, { callUuid: "call-A", limit: 1, offset: 1 });
    const req = rest.requests[0]!;
    expect(req).toMatchObject({ method: "GET", path: "/api/v1/Account/MA_ZYX123/Recording/" });
    expect(req.query).toEqual({ limit: "1", offset: "1", call_uuid: "call-A" });
    expect(page).toEqual([
      { recordingId: first.recordingId, callUuid: "call-A", recordingUrl: first.recordUrl, format: "mp3", durationMs: 12_345, addedAt },
    ]);
  });

  it("sends no query when none is asked for", async () => {
    await carrier().listRecordings(ACCOUNT);
    expect(rest.requests[0]!.query).toEqual({});
    expect(rest.requests[0]!.path).toBe("/api/v1/Account/MA_ZYX123/Recording/");
  });

  it("refuses a malformed list (an item without a recording_url) instead of skipping it", async () => {
    rest.respondNext(200, { meta: {}, objects: [{ recording_id: "r1" }] });
    expect(await failure(carrier().listRecordings(ACCOUNT))).toMatchObject({ name: "CarrierOutcomeUnknown", operation: "list recordings" });
  });

  it("gets one at /Account/{auth_id}/Recording/{id}/", async () => {
    const rec = rest.addRecording({ authId: ACCOUNT.authId, callUuid: "call-C", durationMs: 4_000, format: "wav" });
    const got = await carrier().getRecording(ACCOUNT, rec.recordingId);
    expect(rest.requests[0]).toMatchObject({ method: "GET", path: `/api/v1/Account/MA_ZYX123/Recording/${rec.recordingId}/` });
    expect(got).toMatchObject({ recordingId: rec.recordingId, callUuid: "call-C", format: "wav", durationMs: 4_000, recordingUrl: rec.recordUrl });
  });

  it("reads a decimal duration and a zoned add_time", async () => {
    rest.respondNext(200, {
      recording_id: "r-9",
      recording_url: "https://media.vobiz.test/r-9.mp3",
      recording_duration_ms: "345100.00000",
      add_time: "2024-03-01 10:00:00.123456+05:30",
      call_uuid: null,
    });
    expect(await carrier().getRecording(ACCOUNT, "r-9")).toEqual({
      recordingId: "r-9",
      callUuid: null,
      recordingUrl: "https://media.vobiz.test/r-9.mp3",
      format: null,
      durationMs: 345_100,
      addedAt: new Date("2024-03-01T04:30:00.123Z"),
    });
  });

  it("deletes with DELETE, after which it is gone, and deleting again (404) still succeeds", async () => {
    const c = carrier();
    const rec = rest.addRecording({ authId: ACCOUNT.authId, callUuid: "call-D" });
    await c.deleteRecording(ACCOUNT, rec.recordingId);
    expect(rest.requests[0]).toMatchObject({ method: "DELETE", path: `/api/v1/Account/MA_ZYX123/Recording/${rec.recordingId}/`, status: 204 });

    expect(await failure(c.getRecording(ACCOUNT, rec.recordingId))).toMatchObject({ name: "CarrierError", status: 404 });
    await expect(c.deleteRecording(ACCOUNT, rec.recordingId)).resolves.toBeUndefined();
    expect(rest.requests[2]!.status).toBe(404);
  });
});

describe("fetchRecordingMedia", () => {
  it("on the API's origin, sends the credentials and streams the exact bytes", async () => {
    const rec = rest.addRecording({ authId: ACCOUNT.authId, callUuid: "call-E" });
    const media = await carrier().fetchRecordingMedia(ACCOUNT, { recordingUrl: rec.recordUrl });

    expect(media.contentType).toBe("audio/mpeg");
    expect(media.contentLength).toBe(rec.bytes.length);
    expect((await drain(media.body)).equals(rec.bytes)).toBe(true);
    expect(rest.requests[0]!.path).toBe(`/media/${rec.recordingId}.mp3`);
    expect(rest.requests[0]!.headers["x-auth-id"]).toBe(ACCOUNT.authId);
    expect(rest.requests[0]!.headers["x-auth-token"]).toBe(TOKEN);
  });

  it("serves WAV as audio/wav", async () => {
    const rec = rest.addRecording({ authId: ACCOUNT.authId, callUuid: "call-F", format: "wav" });
    const media = await carrier().fetchRecordingMedia(ACCOUNT, { recordingUrl: rec.recordUrl });
    expect(media.contentType).toBe("audio/wav");
    expect((await drain(media.body)).subarray(0, 4).toString()).toBe("RIFF");
  });

  it("turns a missing recording's 404 into a CarrierError", async () => {
    const rec = rest.addRecording({ authId: ACCOUNT.authId, callUuid: "call-G" });
    rest.recordings.delete(rec.recordingId);
    expect(await failure(carrier().fetchRecordingMedia(ACCOUNT, { recordingUrl: rec.recordUrl }))).toMatchObject({
      name: "CarrierError",
      operation: "fetch recording media",
      status: 404,
    });
  });

  it("ends a body that stalls past the idle timeout with CarrierOutcomeUnknown", async () => {
    const rec = rest.addRecording({ authId: ACCOUNT.authId, callUuid: "call-H" });
    rest.stallNextBody(5_000);
    const media = await carrier({ timeouts: { mediaIdleMs: 200 } }).fetchRecordingMedia(ACCOUNT, { recordingUrl: rec.recordUrl });
    const started = performance.now();
    const err = await failure(drain(media.body));
    expect(err).toBeInstanceOf(CarrierOutcomeUnknown);
    expect(err).toMatchObject({ why: "body stalled" });
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it("cancel() ends the body quietly", async () => {
    const rec = rest.addRecording({ authId: ACCOUNT.authId, callUuid: "call-I" });
    rest.stallNextBody(5_000);
    const media = await carrier().fetchRecordingMedia(ACCOUNT, { recordingUrl: rec.recordUrl });
    const chunks: Uint8Array[] = [];
    for await (const chunk of media.body) {
      chunks.push(chunk);
      media.cancel();
    }
    expect(Buffer.concat(chunks).length).toBeLessThan(rec.bytes.length);
  });

  describe("on another origin", () => {
    let cdn: Server;
    let cdnPort: number;
    let seen: Array<{ path: string; headers: IncomingHttpHeaders }> = [];
    const audio = Buffer.from("ID3-less pseudo audio from the CDN");
    /** Public-looking names, answered with this machine's loopback. */
    const resolve: Resolver = async (host) => (host.endsWith(".test") ? [{ address: "127.0.0.1", family: 4 }] : []);

    beforeAll(async () => {
      cdn = createServer((req, res) => {
        seen.push({ path: req.url ?? "", headers: req.headers });
        if (req.url === "/moved.mp3") return void res.writeHead(302, { location: rest.origin }).end();
        res.writeHead(200, { "content-type": "audio/mpeg", "content-length": String(audio.length) }).end(audio);
      });
      await new Promise<void>((r) => cdn.listen(0, "127.0.0.1", r));
      cdnPort = (cdn.address() as AddressInfo).port;
    });

    afterAll(async () => {
      cdn.closeAllConnections();
      await new Promise<void>((r) => cdn.close(() => r()));
    });

    beforeEach(() => {
      seen = [];
    });

    it("fetches without the credentials", async () => {
      const media = await carrier({ resolve }).fetchRecordingMedia(ACCOUNT, { recordingUrl: `http://cdn.test:${cdnPort}/r.mp3` });
      expect((await drain(media.body)).equals(audio)).toBe(true);
      expect(seen).toHaveLength(1);
      expect(seen[0]!.headers["x-auth-id"]).toBeUndefined();
      expect(seen[0]!.headers["x-auth-token"]).toBeUndefined();
      expect(JSON.stringify(seen[0]!.headers)).not.toContain(TOKEN);
    });

    it("does not follow a redirect", async () => {
      const err = await failure(carrier({ resolve }).fetchRecordingMedia(ACCOUNT, { recordingUrl: `http://cdn.test:${cdnPort}/moved.mp3` }));
      expect(err).toMatchObject({ name: "CarrierError", status: 302, reason: "redirect not followed" });
      expect(seen).toHaveLength(1);
      expect(rest.requests).toHaveLength(0);
    });

    it("refuses a name resolving to a private address unless private media is allowed, before connecting", async () => {
      const strict = carrier({ resolve, allowPrivateMedia: false });
      const err = await failure(strict.fetchRecordingMedia(ACCOUNT, { recordingUrl: `https://cdn.test:${cdnPort}/r.mp3` }));
      expect(err).toBeInstanceOf(CarrierUnreachable);
      expect(err).toMatchObject({ why: "blocked address" });
      expect(seen).toHaveLength(0);
    });

    it("refuses plain http and a loopback literal unless private media is allowed", async () => {
      const strict = carrier({ resolve, allowPrivateMedia: false });
      expect(await failure(strict.fetchRecordingMedia(ACCOUNT, { recordingUrl: `http://cdn.test:${cdnPort}/r.mp3` }))).toMatchObject({
        name: "CarrierUnreachable",
        why: "media url refused: not https",
      });
      expect(await failure(strict.fetchRecordingMedia(ACCOUNT, { recordingUrl: `https://127.0.0.1:${cdnPort}/r.mp3` }))).toMatchObject({
        name: "CarrierUnreachable",
        why: "media url refused: not public",
      });
      expect(seen).toHaveLength(0);
    });
  });
});

describe("the auth token", () => {
  it("appears in no error's message, stack or properties, whatever failed", async () => {
    const errors: Error[] = [];
    rest.failNext(401, `token ${TOKEN} is not valid`);
    errors.push(await failure(carrier().placeCall(ACCOUNT, CALL)));
    rest.respondNext(500, `plain ${TOKEN}`);
    errors.push(await failure(carrier().listRecordings(ACCOUNT)));
    errors.push(await failure(carrier().getRecording({ authId: ACCOUNT.authId, authToken: "wrong-token" }, "r")));
    rest.stallNext(2_000);
    errors.push(await failure(carrier({ timeouts: { placeCallMs: 200 } }).placeCall(ACCOUNT, CALL)));
    errors.push(await failure(carrier({ baseUrl: "http://127.0.0.1:1/api/v1" }).hangUpCall(ACCOUNT, "x")));
    errors.push(await failure(carrier().placeCall({ authId: ACCOUNT.authId, authToken: `${TOKEN}\r\nX-Evil: 1` }, CALL)));
    errors.push(await failure(carrier({ allowPrivateMedia: false }).fetchRecordingMedia(ACCOUNT, { recordingUrl: "http://10.0.0.1/r.mp3" })));

    expect(errors.map((e) => e.name)).toEqual([
      "CarrierError",
      "CarrierError",
      "CarrierError",
      "CarrierOutcomeUnknown",
      "CarrierUnreachable",
      "CarrierUnreachable",
      "CarrierUnreachable",
    ]);
    expect((errors[0] as CarrierError).reason).toBe("token [redacted] is not valid");
    for (const err of errors) {
      expect(everything(err)).not.toContain(TOKEN);
      expect(everything(err)).not.toContain("127.0.0.1");
    }
  });
});
