/**
 * Cases for the carrier webhooks (`/v1/vobiz/{appId}/...`): form-encoded (or query, for the GET variants), signed
 * the way the simulator signs (the server's own signature module, over the URL rebuilt from PUBLIC_BASE_URL). Unless
 * a case is about the signature, it is signed correctly for the exact path it requests, so a refusal is about the
 * mutated part. Each webhook's fields are the ones the carrier sends it, about real calls of the world where that
 * matters: a PIN call waiting for its digits, the recorded call, a call Maskline placed (named in the path, with its
 * own secret `t`).
 */
import { computeSignature, signatureBaseUrl } from "../../../server/src/vobiz/signature.js";
import { AUTH_TOKEN } from "../fixtures.js";
import type { FuzzCase } from "./case.js";
import { ENCODING_IS_4XX, HUGE_HEADERS_ARE_431, NUL_IS_4XX, OVER_LIMIT_IS_413, show } from "./case.js";
import { ENCODED_TEXT_EDGES } from "./edge-values.js";
import type { Rng } from "./prng.js";
import type { RawRequest } from "./raw-http.js";
import { fillPath, resolveSchema, type Operation } from "./spec.js";
import type { FuzzWorld, PendingPinCall, PlacedCallFixture } from "./world.js";

type Pairs = Array<[string, string]>;

interface HookRequest {
  /** Path parameter appId, encoded. */
  appId: string;
  /** Path parameter callId, encoded (a placed call's webhooks). */
  callId?: string;
  /** The URL secret pairs (`k`), encoded. */
  secret: Pairs;
  /** The other parameters of the URL Maskline handed out (`a` of a PIN prompt, `t` of a placed call), encoded. */
  params: Pairs;
  /** The carrier's fields, encoded: the form of a POST, after the parameters in the query of a GET. */
  fields: Pairs;
  /** Signature headers are computed from these unless `signature` says otherwise. */
  signature: { version: "v3" | "v2"; nonce: string; token: string } | { headers: Pairs };
  headers: Pairs;
  /** Exact body bytes; wins over `form`. */
  raw?: Buffer;
}

const enc = encodeURIComponent;
const pairsOf = (fields: Record<string, string>): Pairs => Object.entries(fields).map(([k, v]) => [enc(k), enc(v)]);
const joinPairs = (pairs: Pairs) => pairs.map(([k, v]) => `${k}=${v}`).join("&");

function nonceFrom(rng: Rng): string {
  let s = String(rng.int(1, 9));
  for (let i = 0; i < 19; i++) s += String(rng.int(0, 9));
  return s;
}

function uuidFrom(rng: Rng): string {
  const hex = Array.from({ length: 32 }, () => rng.int(0, 15).toString(16)).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20)}`;
}

type HookKind = "answer" | "hangup" | "dialStatus" | "pin" | "recording" | "outboundAnswer" | "outboundHangup";
const HOOK_KINDS: readonly HookKind[] = [
  "answer",
  "hangup",
  "dialStatus",
  "pin",
  "recording",
  "outboundAnswer",
  "outboundHangup",
];

/** vobiz.pinGet → pin. A webhook the document gains without fields here fails the run loudly. */
function hookKindOf(op: Operation): HookKind {
  const name = op.operationId.replace(/^vobiz\./, "").replace(/Get$/, "");
  const kind = HOOK_KINDS.find((k) => k === name);
  if (!kind)
    throw new Error(
      `fuzz: no carrier fields for webhook ${op.operationId} (${op.pathTemplate}); add them to webhook-cases.ts`,
    );
  return kind;
}

/** The fields the webhook reads (the document's VobizCallback): what the field oracle holds to "no control bytes". */
const READ_FIELDS = new Set(
  Object.keys(resolveSchema({ $ref: "#/components/schemas/VobizCallback" }).properties ?? {}),
);

/** What a case is about: the PIN call whose digits it carries, the placed call it names. */
interface Subject {
  pinCall?: PendingPinCall;
  placed?: PlacedCallFixture;
}

function hangupFields(callUuid: string, from: string, to: string, direction: string): Record<string, string> {
  return {
    CallUUID: callUuid,
    From: from,
    To: to,
    Direction: direction,
    CallStatus: "completed",
    Event: "Hangup",
    Duration: "12",
    BillDuration: "60",
    StartTime: "2026-01-01 10:00:00",
    AnswerTime: "2026-01-01 10:00:02",
    EndTime: "2026-01-01 10:00:14",
    HangupCause: "NORMAL_CLEARING",
    HangupCauseCode: "4000",
    HangupCauseName: "Normal Hangup",
  };
}

/** The fields the carrier sends for each webhook, for a call the fixtures really made (or a fresh one). */
function carrierFields(kind: HookKind, w: FuzzWorld, rng: Rng, subject: Subject): Record<string, string> {
  const { session, callUuid } = w.hook;
  const common = { From: session.people[0], To: session.proxies[0], Direction: "inbound" };
  switch (kind) {
    case "answer":
      return {
        CallUUID: uuidFrom(rng),
        ...common,
        CallStatus: "ringing",
        Event: "StartApp",
        CallerName: "Fuzz",
        BillRate: "0.45000",
      };
    case "hangup":
      return hangupFields(callUuid, common.From, common.To, "inbound");
    case "dialStatus":
      return {
        CallUUID: callUuid,
        ...common,
        CallStatus: "in-progress",
        DialStatus: "completed",
        DialALegUUID: callUuid,
        DialBLegUUID: uuidFrom(rng),
        DialHangupCause: "NORMAL_CLEARING",
        DialRingStatus: "true",
      };
    case "pin": {
      // Without a waiting call of its own, a case names a call nobody prompted (answered politely, judged never).
      const call = subject.pinCall ?? { callUuid: uuidFrom(rng), from: w.hook.pin.owner, digits: "1234" };
      return {
        CallUUID: call.callUuid,
        From: call.from,
        To: w.hook.pin.did,
        Direction: "inbound",
        CallStatus: "in-progress",
        Digits: call.digits,
        InputType: "dtmf",
      };
    }
    case "recording": {
      // A new recording of the recorded call each time (the carrier's id is what makes one recording).
      const recordingId = uuidFrom(rng);
      const end = Date.UTC(2026, 0, 1, 10, 0, 14);
      return {
        CallUUID: callUuid,
        RecordingID: recordingId,
        RecordUrl: `https://media.vobiz.example/v1/Account/MA_TEST/Recording/${recordingId}.mp3`,
        RecordingDuration: "4",
        RecordingDurationMs: "4000",
        RecordingStartMs: String(end - 4000),
        RecordingEndMs: String(end),
        RecordingFormat: "mp3",
      };
    }
    case "outboundAnswer": {
      const placed = subject.placed!;
      return {
        CallUUID: placed.callUuid,
        From: placed.from,
        To: placed.to,
        Direction: "outbound",
        CallStatus: "in-progress",
        Event: "StartApp",
        CallerName: placed.from,
        BillRate: "0.45000",
        ALegUUID: placed.callUuid,
        ALegRequestUUID: placed.callUuid,
      };
    }
    case "outboundHangup": {
      const placed = subject.placed!;
      return {
        ...hangupFields(placed.callUuid, placed.from, placed.to, "outbound"),
        ALegUUID: placed.callUuid,
        ALegRequestUUID: placed.callUuid,
      };
    }
  }
}

function build(op: Operation, w: FuzzWorld, r: HookRequest): RawRequest {
  const path = fillPath(op.pathTemplate, { appId: r.appId, ...(r.callId !== undefined ? { callId: r.callId } : {}) });
  const query = joinPairs([...r.secret, ...r.params, ...(op.method === "GET" ? r.fields : [])]);
  const signatureHeaders: Pairs =
    "headers" in r.signature
      ? r.signature.headers
      : (() => {
          const { version, nonce, token } = r.signature;
          const tag = version === "v3" ? "V3" : "V2";
          const signature = computeSignature(version, token, signatureBaseUrl(w.server.baseUrl + path), nonce);
          return [
            [`X-Vobiz-Signature-${tag}`, signature],
            [`X-Vobiz-Signature-${tag}-Nonce`, nonce],
          ];
        })();
  const body = op.method === "POST" ? (r.raw ?? Buffer.from(joinPairs(r.fields), "latin1")) : r.raw;
  return {
    method: op.method,
    path: query ? `${path}?${query}` : path,
    headers: [...r.headers, ...signatureHeaders],
    ...(body ? { body } : {}),
  };
}

export function webhookCases(op: Operation, w: FuzzWorld, rng: Rng): FuzzCase[] {
  const cases: FuzzCase[] = [];
  const hook = hookKindOf(op);
  const app = w.hook.fixture.app;
  const k = new URL(app.answerUrl).searchParams.get("k") ?? "";
  const isGet = op.method === "GET";
  const isPlaced = hook === "outboundAnswer" || hook === "outboundHangup";
  const placed = isPlaced ? w.hook.placedCalls[op.operationId] : undefined;
  if (isPlaced && !placed) throw new Error(`fuzz: the world placed no call for ${op.operationId}`);
  // The parameters of the URL Maskline handed out: a PIN prompt's attempt, a placed call's own secret.
  const params: Pairs = hook === "pin" ? [["a", "1"]] : placed ? [["t", enc(placed.secret)]] : [];
  // Every case gets fresh identifiers so that neither the nonce replay check nor CallUUID idempotency interferes.
  const fresh = (subject: Subject = {}): HookRequest => ({
    appId: enc(app.id),
    ...(placed ? { callId: enc(placed.id) } : {}),
    secret: [["k", enc(k)]],
    params,
    fields: pairsOf(carrierFields(hook, w, rng, { ...(placed ? { placed } : {}), ...subject })),
    signature: { version: "v3", nonce: nonceFrom(rng), token: AUTH_TOKEN },
    headers: isGet ? [] : [["Content-Type", "application/x-www-form-urlencoded"]],
  });
  // PIN calls waiting for digits, this operation's own (copied: generating the cases again reuses the same ones).
  const pinCalls = w.hook.pin.calls[op.operationId];
  if (hook === "pin" && !pinCalls) throw new Error(`fuzz: the world has no waiting PIN calls for ${op.operationId}`);
  const ownerCalls = [...(pinCalls?.owner ?? [])];
  const strangerCalls = [...(pinCalls?.strangers ?? [])];
  /** A PIN call of its own, waiting for these digits (for the cases whose digits or attempt must be judged). */
  const waiting = (calls: PendingPinCall[]): Subject => {
    const call = calls.shift();
    return call ? { pinCall: call } : {};
  };
  const add = (c: Omit<FuzzCase, "operationId" | "surface" | "request">, r: HookRequest) =>
    cases.push({ operationId: op.operationId, surface: "webhook", ...c, request: build(op, w, r) });
  const withFields = (r: HookRequest, change: (pairs: Pairs) => Pairs): HookRequest => ({
    ...r,
    fields: change(r.fields),
  });

  // Baselines: signed, valid, about real calls (a PIN baseline keys the owner's right PIN on a call of its own).
  const answered = { status: [200], why: "a valid signed callback is answered 200 with VobizXML" };
  const baseline = fresh(waiting(ownerCalls));
  add(
    { group: "baseline", kind: "baseline (V3 signature)", detail: "signed request", baseline: true, expect: answered },
    baseline,
  );
  add(
    { group: "baseline", kind: "baseline (V2 signature)", detail: "signed request", baseline: true, expect: answered },
    { ...fresh(waiting(ownerCalls)), signature: { version: "v2", nonce: nonceFrom(rng), token: AUTH_TOKEN } },
  );
  const baselineNonce = "nonce" in baseline.signature ? baseline.signature.nonce : "";

  // The app id in the path (signed for that exact path, so only the id is wrong).
  const notFound = { status: [404], why: "an unknown or malformed app id is 404 not_found" };
  const appIds: Array<[string, string, FuzzCase["expect"]?]> = [
    ["app id ← %00", "%00", notFound],
    ["app id ← NUL inside", `${enc(app.id)}%00`, notFound],
    ["app id ← 5,000 chars", "a".repeat(5000), notFound],
    ["app id ← unknown", `${app.id.slice(0, -4)}zzzz`, notFound],
    ["app id ← 65 chars", "a".repeat(65), notFound],
    [
      "app id ← another tenant's app",
      enc(w.api.fixture.app.id),
      { status: "not2xx", why: "another app's URL secret and token do not match" },
    ],
    ["app id ← ..", ".."],
    ["app id ← %2e%2e", "%2e%2e"],
    ["app id ← malformed escape", "%ZZ"],
    ["app id ← encoded lone surrogate", "%ED%A0%80"],
    ["app id ← emoji", enc("📞")],
    ["app id ← encoded slash", "a%2Fb"],
  ];
  for (const [kind, appId, expect] of appIds)
    add({ group: "app-id", kind, detail: show(appId, 60), ...(expect ? { expect } : {}) }, { ...fresh(), appId });

  // The URL secret.
  const refused = { status: [403], why: "a missing or wrong URL secret or signature is 403 forbidden" };
  const secrets: Array<[string, Pairs, FuzzCase["expect"]?]> = [
    ["url secret: missing", [], refused],
    ["url secret: wrong", [["k", enc(`${k.slice(0, -2)}xx`)]], refused],
    ["url secret: empty", [["k", ""]], refused],
    ["url secret: 200 chars", [["k", "k".repeat(200)]], refused],
    ["url secret: NUL", [["k", "%00"]], { status: "4xx", why: "a NUL anywhere must be a deliberate 4xx" }],
    [
      "url secret: right one with NUL appended",
      [["k", `${enc(k)}%00`]],
      { status: "4xx", why: "a NUL anywhere must be a deliberate 4xx" },
    ],
    [
      "url secret: repeated (right, wrong)",
      [
        ["k", enc(k)],
        ["k", "wrong"],
      ],
    ],
    ["url secret: bracket syntax", [["k[]", enc(k)]], refused],
    ["url secret: malformed escape", [["k", "%ZZ"]], refused],
  ];
  for (const [kind, secret, expect] of secrets) {
    const r = fresh();
    add(
      { group: "url-secret", kind, detail: joinPairs(secret) || "(no k)", ...(expect ? { expect } : {}) },
      { ...r, secret },
    );
  }

  // The parameters of the URL Maskline handed out (signed with the path, not the query: only they are wrong here).
  if (hook === "pin") {
    const attempt = (kind: string, value: Pairs, expect?: FuzzCase["expect"]) =>
      add(
        { group: "param", kind, detail: joinPairs(value) || "(no a)", ...(expect ? { expect } : {}) },
        { ...fresh(waiting(strangerCalls)), params: value },
      );
    const judged = { status: [200], why: "digits for a later prompt of a waiting call are answered 200 with VobizXML" };
    attempt("attempt: 2", [["a", "2"]], judged);
    attempt("attempt: 3", [["a", "3"]], judged);
    attempt("attempt: missing", []);
    attempt("attempt: 0", [["a", "0"]]);
    attempt("attempt: 4 (past the last prompt)", [["a", "4"]]);
    attempt("attempt: negative", [["a", "-1"]]);
    attempt("attempt: not a number", [["a", "abc"]]);
    attempt("attempt: fractional", [["a", "1.5"]]);
    attempt("attempt: exponent form", [["a", "1e0"]]);
    attempt("attempt: 9 characters", [["a", "1".repeat(9)]]);
    // Read like any attempt Maskline never hands out (the last one); never stored, so no NUL rule of its own.
    attempt("attempt: NUL", [["a", "%00"]]);
    attempt("attempt: repeated", [
      ["a", "1"],
      ["a", "2"],
    ]);
    attempt("attempt: bracket syntax", [["a[]", "1"]]);
  }
  if (placed) {
    const others = Object.values(w.hook.placedCalls).filter((c) => c.id !== placed.id);
    const sibling = others[0]!;
    const wrongSecret = {
      status: [403],
      why: "a placed call's callback without that call's own secret is 403 forbidden, like a bad signature",
    };
    const secret = (kind: string, value: Pairs, expect?: FuzzCase["expect"]) =>
      add(
        { group: "call-secret", kind, detail: joinPairs(value) || "(no t)", ...(expect ? { expect } : {}) },
        { ...fresh(), params: value },
      );
    secret("call secret: missing", [], wrongSecret);
    const wrong = `${placed.secret.slice(0, -2)}${placed.secret.endsWith("xx") ? "yy" : "xx"}`;
    secret("call secret: wrong", [["t", enc(wrong)]], wrongSecret);
    secret("call secret: empty", [["t", ""]], wrongSecret);
    secret("call secret: upper-cased", [["t", enc(placed.secret.toUpperCase())]], wrongSecret);
    secret("call secret: another placed call's", [["t", enc(sibling.secret)]], wrongSecret);
    secret("call secret: another tenant's placed call's", [["t", enc(w.other.placedCall.secret)]], wrongSecret);
    secret("call secret: the app's URL secret", [["t", enc(k)]], wrongSecret);
    secret("call secret: 129 characters", [["t", "t".repeat(129)]], wrongSecret);
    secret("call secret: 10 kB", [["t", "t".repeat(10 * 1024)]], {
      status: "4xx",
      why: "a 10 kB call secret is a deliberate 4xx",
    });
    secret("call secret: NUL", [["t", "%00"]], NUL_IS_4XX);
    secret("call secret: right one with NUL appended", [["t", `${enc(placed.secret)}%00`]], NUL_IS_4XX);
    secret("call secret: malformed escape", [["t", "%ZZ"]], wrongSecret);
    secret("call secret: bracket syntax", [["t[]", enc(placed.secret)]], wrongSecret);
    secret("call secret: repeated (right, wrong)", [
      ["t", enc(placed.secret)],
      ["t", "wrong"],
    ]);

    // The call named in the path (signed for that exact path, with the app's k: only the call is wrong). A call this
    // app did not place is refused exactly like a wrong secret: the secret check cannot tell them apart, on purpose.
    const notOurs = {
      status: [403],
      why: "a call id that is not this app's placed call is 403 forbidden, exactly like an unknown one",
    };
    const noSuchCall = { status: "not2xx" as const, why: "a malformed call id names no call" };
    const thisSecret: Pairs = [["t", enc(placed.secret)]];
    const callIds: Array<[string, string, Pairs, FuzzCase["expect"]]> = [
      ["call id ← unknown, well-formed", enc(`${placed.id.slice(0, -4)}zzzz`), thisSecret, notOurs],
      ["call id ← another placed call of this app (this call's secret)", enc(sibling.id), thisSecret, notOurs],
      ["call id ← an inbound call of this app", enc(w.hook.callId), thisSecret, notOurs],
      [
        "call id ← another tenant's placed call (its own secret)",
        enc(w.other.placedCall.id),
        [["t", enc(w.other.placedCall.secret)]],
        notOurs,
      ],
      ["call id ← another tenant's placed call (this call's secret)", enc(w.other.placedCall.id), thisSecret, notOurs],
      [
        "call id ← the fuzzed tenant's placed call (its own secret)",
        enc(w.api.placedCall.id),
        [["t", enc(w.api.placedCall.secret)]],
        notOurs,
      ],
      ["call id ← own id upper-cased", enc(placed.id.toUpperCase()), thisSecret, noSuchCall],
      ["call id ← %00", "%00", thisSecret, NUL_IS_4XX],
      ["call id ← own id + %00", `${enc(placed.id)}%00`, thisSecret, NUL_IS_4XX],
      ["call id ← 65 chars", "x".repeat(65), thisSecret, noSuchCall],
      ["call id ← 5,000 chars", "x".repeat(5000), thisSecret, noSuchCall],
      ["call id ← ..", "..", thisSecret, noSuchCall],
      ["call id ← %2e%2e", "%2e%2e", thisSecret, noSuchCall],
      ["call id ← encoded slash", "a%2Fb", thisSecret, noSuchCall],
      ["call id ← malformed escape", "%ZZ", thisSecret, noSuchCall],
      ["call id ← encoded lone surrogate", "%ED%A0%80", thisSecret, noSuchCall],
      ["call id ← emoji", enc("📞"), thisSecret, noSuchCall],
      ["call id ← SQL-looking", enc("' OR '1'='1"), thisSecret, noSuchCall],
      ["call id ← empty segment", "", thisSecret, noSuchCall],
    ];
    for (const [kind, callId, t, expect] of callIds)
      add(
        { group: "call-id", kind, detail: `${show(callId, 60)} with ${show(joinPairs(t), 20)}`, expect },
        { ...fresh(), callId, params: t },
      );
  }

  // The signature and its nonce.
  const sig = (kind: string, headers: Pairs, expect?: FuzzCase["expect"]) =>
    add(
      {
        group: "signature",
        kind,
        detail: headers.map(([n, v]) => `${n}: ${show(v, 40)}`).join("; ") || "no signature headers",
        ...(expect ? { expect } : {}),
      },
      { ...fresh(), signature: { headers } },
    );
  const nonce = () => nonceFrom(rng);
  sig("signature: absent", [], refused);
  sig(
    "signature: garbage",
    [
      ["X-Vobiz-Signature-V3", "not-base64!"],
      ["X-Vobiz-Signature-V3-Nonce", nonce()],
    ],
    refused,
  );
  sig(
    "signature: empty",
    [
      ["X-Vobiz-Signature-V3", ""],
      ["X-Vobiz-Signature-V3-Nonce", nonce()],
    ],
    refused,
  );
  sig("signature: nonce header missing", [["X-Vobiz-Signature-V3", "c2lnbmF0dXJl"]], refused);
  sig(
    "signature: 10 kB",
    [
      ["X-Vobiz-Signature-V3", "A".repeat(10 * 1024)],
      ["X-Vobiz-Signature-V3-Nonce", nonce()],
    ],
    refused,
  );
  sig(
    "signature: latin1 bytes",
    [
      ["X-Vobiz-Signature-V3", "\u00ff\u00fe=="],
      ["X-Vobiz-Signature-V3-Nonce", nonce()],
    ],
    refused,
  );
  sig(
    "signature: raw NUL byte",
    [
      ["X-Vobiz-Signature-V3", "a\u0000b"],
      ["X-Vobiz-Signature-V3-Nonce", nonce()],
    ],
    NUL_IS_4XX,
  );
  sig(
    "signature: 5,000-char nonce, invalid signature",
    [
      ["X-Vobiz-Signature-V3", "c2lnbmF0dXJl"],
      ["X-Vobiz-Signature-V3-Nonce", "7".repeat(5000)],
    ],
    { status: "4xx", why: "a 5,000-character nonce must be a deliberate 4xx" },
  );
  add(
    { group: "signature", kind: "signature: wrong auth token", detail: "signed with another token", expect: refused },
    { ...fresh(), signature: { version: "v3", nonce: nonce(), token: "not-the-token" } },
  );
  add(
    {
      group: "signature",
      kind: "signature: valid, 5,000-char nonce",
      detail: "nonce 5,000 digits",
      expect: { status: "4xx", why: "a 5,000-character nonce must be a deliberate 4xx" },
    },
    { ...fresh(), signature: { version: "v3", nonce: "7".repeat(5000), token: AUTH_TOKEN } },
  );
  add(
    { group: "signature", kind: "signature: valid, nonce with latin1 bytes", detail: "nonce with \\u00ff" },
    { ...fresh(), signature: { version: "v3", nonce: `${nonce()}\u00ff`, token: AUTH_TOKEN } },
  );
  add(
    { group: "signature", kind: "signature: valid, empty nonce", detail: "nonce ''" },
    { ...fresh(), signature: { version: "v3", nonce: "", token: AUTH_TOKEN } },
  );
  // The baseline's nonce again. With the baseline's exact fields it is the carrier retrying (the replay guard lets that
  // through by its endpoint + CallUUID + Event fingerprint); with another CallUUID it is a replay and must be refused.
  const afterBaseline = (kind: string, detail: string, r: HookRequest, expect?: FuzzCase["expect"]) =>
    cases.push({
      operationId: op.operationId,
      surface: "webhook",
      group: "signature",
      kind,
      detail,
      afterBaselines: true,
      ...(expect ? { expect } : {}),
      request: build(op, w, r),
    });
  const replayed = { version: "v3" as const, nonce: baselineNonce, token: AUTH_TOKEN };
  afterBaseline(
    "signature: carrier retry (same nonce, same fields)",
    `nonce ${baselineNonce} with the baseline's fields`,
    { ...baseline, signature: replayed },
  );
  const otherCall = uuidFrom(rng);
  afterBaseline(
    "signature: replayed nonce (another CallUUID)",
    `nonce ${baselineNonce} with CallUUID ${otherCall}`,
    {
      ...withFields(baseline, (pairs) =>
        pairs.map(([n, v]): [string, string] => (n === "CallUUID" ? [n, otherCall] : [n, v])),
      ),
      signature: replayed,
    },
    { status: [403], why: "a nonce replayed for another call is 403 forbidden" },
  );

  // The carrier's fields, one at a time. A field the webhook reads holding what no carrier sends is refused before
  // anything is looked up (422); the digits are judged on a waiting PIN call of their own.
  const hostile = { status: [422], why: "a carrier field holding what no carrier sends is 422 validation_failed" };
  const fieldExpectation = (name: string, edge: (typeof ENCODED_TEXT_EDGES)[number]): FuzzCase["expect"] => {
    if (!READ_FIELDS.has(name)) return undefined;
    if (edge.nul) return NUL_IS_4XX;
    return edge.control || edge.overLong ? hostile : undefined;
  };
  const subjectFor = (name: string): Subject => (name === "Digits" ? waiting(strangerCalls) : {});
  const fieldNames = baseline.fields.map(([name]) => name);
  for (const name of fieldNames) {
    for (const edge of ENCODED_TEXT_EDGES) {
      const expect = fieldExpectation(name, edge);
      add(
        {
          group: "field",
          kind: `field: ${edge.kind}`,
          detail: `${name}=${show(edge.text, 40)}`,
          ...(expect ? { expect } : {}),
        },
        withFields(fresh(subjectFor(name)), (pairs) => pairs.map(([n, v]) => [n, n === name ? edge.text : v])),
      );
    }
    add(
      { group: "field", kind: "field: removed", detail: `${name} removed` },
      withFields(fresh(subjectFor(name)), (pairs) => pairs.filter(([n]) => n !== name)),
    );
    add(
      { group: "field", kind: "field: repeated", detail: `${name} twice` },
      withFields(fresh(subjectFor(name)), (pairs) => [
        ...pairs,
        ...pairs.filter(([n]) => n === name).map(([n]): [string, string] => [n, "fuzz"]),
      ]),
    );
    add(
      { group: "field", kind: "field: bracket object syntax", detail: `${name}[a]=x` },
      withFields(fresh(subjectFor(name)), (pairs) =>
        pairs.map(([n, v]): [string, string] => (n === name ? [`${n}[a]`, v] : [n, v])),
      ),
    );
  }
  if (!isGet) {
    const big = (n: number) => withFields(fresh(), (pairs) => [...pairs, ["Fuzz", "x".repeat(n)]]);
    add({ group: "field", kind: "field: 60 kB value (under the limit)", detail: "Fuzz=60 kB" }, big(60 * 1024));
  }
  add(
    { group: "field", kind: "field: 2,000 unknown fields", detail: "f0..f1999" },
    withFields(fresh(), (pairs) => [
      ...pairs,
      ...Array.from({ length: 2000 }, (_, i): [string, string] => [`f${i}`, "1"]),
    ]),
  );
  add(
    { group: "field", kind: "field: deep bracket nesting", detail: "a[b][c]...=1" },
    withFields(fresh(), (pairs) => [...pairs, [`a${"[b]".repeat(50)}`, "1"]]),
  );
  add(
    { group: "field", kind: "field: __proto__ names", detail: "__proto__[x]=1&constructor[prototype][y]=1" },
    withFields(fresh(), (pairs) => [...pairs, ["__proto__[x]", "1"], ["constructor[prototype][y]", "1"]]),
  );

  // The body as a whole (POST only).
  if (!isGet) {
    const form = joinPairs(fresh().fields);
    const body = (kind: string, raw: string | Buffer, headers: Pairs, expect?: FuzzCase["expect"]) =>
      add(
        {
          group: "body",
          kind,
          detail: show(Buffer.isBuffer(raw) ? raw.toString("latin1") : raw, 60),
          ...(expect ? { expect } : {}),
        },
        { ...fresh(), raw: Buffer.isBuffer(raw) ? raw : Buffer.from(raw, "latin1"), headers },
      );
    const formCt: [string, string] = ["Content-Type", "application/x-www-form-urlencoded"];
    body("body: JSON instead of a form", JSON.stringify(carrierFields(hook, w, rng, placed ? { placed } : {})), [
      ["Content-Type", "application/json"],
    ]);
    body("body: broken JSON with a JSON content type", '{"CallUUID":', [["Content-Type", "application/json"]]);
    body("body: form without a content type", form, []);
    body("body: XML", "<Response/>", [["Content-Type", "text/xml"]]);
    body("body: oversized form (70 kB)", `${form}&Fuzz=${"x".repeat(70 * 1024)}`, [formCt], OVER_LIMIT_IS_413);
    body("body: empty form", "", [formCt]);
    body("body: not a form", "%%%&&&===", [formCt]);
    body("body: raw NUL byte", `${form}&Fuzz=a\u0000b`, [formCt]);
    body("body: form, charset=utf-16", Buffer.from(form, "utf16le"), [
      ["Content-Type", "application/x-www-form-urlencoded; charset=utf-16"],
    ]);
    body("body: form, charset=latin1", `${form}&Fuzz=%E9`, [
      ["Content-Type", "application/x-www-form-urlencoded; charset=latin1"],
    ]);
    for (const encoding of ["gzip", "br", "deflate", "bogus"]) {
      body(
        `content-encoding: ${encoding} on an uncompressed form`,
        form,
        [formCt, ["Content-Encoding", encoding]],
        ENCODING_IS_4XX,
      );
    }
    body("content-encoding: identity", form, [formCt, ["Content-Encoding", "identity"]]);
    const chunked = fresh();
    cases.push({
      operationId: op.operationId,
      surface: "webhook",
      group: "body",
      kind: "transfer-encoding: chunked (valid form)",
      detail: "chunked",
      request: { ...build(op, w, chunked), chunked: true },
    });
  } else {
    // A GET body is ignored, so a 200 is fine; what must not happen is a decompression failure turning into a 5xx.
    for (const encoding of ["gzip", "br"]) {
      add(
        { group: "body", kind: `content-encoding: ${encoding} on a GET body`, detail: "form text as the body" },
        {
          ...fresh(),
          raw: Buffer.from("CallUUID=x"),
          headers: [
            ["Content-Type", "application/x-www-form-urlencoded"],
            ["Content-Encoding", encoding],
          ],
        },
      );
    }
    add(
      {
        group: "field",
        kind: "query: URL over the header limit (20 kB)",
        detail: "Fuzz=20 kB",
        expect: { status: "4xx", why: "an over-long URL is a deliberate 4xx problem" },
      },
      withFields(fresh(), (pairs) => [...pairs, ["Fuzz", "x".repeat(20 * 1024)]]),
    );
  }

  // Framing.
  add(
    { group: "transport", kind: "huge header (20 kB)", detail: "X-Fuzz: 20 kB", expect: HUGE_HEADERS_ARE_431 },
    { ...fresh(), headers: [...fresh().headers, ["X-Fuzz", "h".repeat(20 * 1024)]] },
  );
  add(
    { group: "transport", kind: "raw NUL byte in a header value", detail: "X-Fuzz: a\\u0000b", expect: NUL_IS_4XX },
    { ...fresh(), headers: [...fresh().headers, ["X-Fuzz", "a\u0000b"]] },
  );
  return cases;
}
