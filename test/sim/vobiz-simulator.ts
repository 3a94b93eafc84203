/**
 * A stand-in for the Vobiz carrier, following docs/carrier-protocol.md exactly, for integration tests and the local demo.
 *
 * It plays the carrier's side of one call: the signed Answer URL request, reading the VobizXML reply the way Vobiz
 * would (malformed XML = cause 8011, non-2xx = 7011), then the `<Gather action>` callback with the caller's digits,
 * the `<Dial action>` callback, the `<Record callbackUrl>` callback and the hangup notice. Calls placed through the
 * REST API are driven by the REST side (vobiz-rest-server.ts), which reuses these pieces.
 * Signatures come from the server's own signature module on purpose: the documented test vector pins that module,
 * so sharing it cannot hide a wrong implementation, and the simulator cannot drift from what the server checks.
 * Nothing here can be compared with the real carrier from this machine; where Vobiz's docs are silent the values
 * follow Plivo's (marked "Plivo" below).
 */
import { randomInt, randomUUID } from "node:crypto";
import { computeSignature, signatureBaseUrl } from "../../server/src/vobiz/signature.js";
import type { VobizRestServer } from "./vobiz-rest-server.js";
import {
  parseVobizXml,
  type DialInfo,
  type GatherInfo,
  type ParsedVobizXml,
  type RecordInfo,
  type VobizElement,
  type VobizXmlKind,
} from "./vobiz-xml.js";

export type HttpMethod = "POST" | "GET";
export type SignatureMode = "v3" | "v2" | "none";
export type Direction = "inbound" | "outbound";
export type DialStatus = "completed" | "busy" | "failed" | "timeout" | "no-answer" | "cancel";
export type CallKind = VobizXmlKind | "http_error";

export interface VobizSimulatorOptions {
  /** The application's auth token; signs every request. */
  authToken: string;
  /** The application's answer_url, as configured (including any `?k=secret`). */
  answerUrl: string;
  /** The application's hangup_url; without one, hangup notices go to the answer URL (Vobiz behaviour). */
  hangupUrl?: string;
  /** answer_method / hangup_method; GET puts the fields in the query string. Default POST. */
  method?: HttpMethod;
  /** Default v3. `none` models an application without callback credentials, which Vobiz does not sign. */
  signatureVersion?: SignatureMode;
  /** Set for a sub-account: requests also carry `X-Vobiz-Signature-MA-*` made with this parent token. */
  parentAuthToken?: string;
  /**
   * With parentAuthToken: send only the MA signature, not the account's own one. `signatureOverride` then replaces
   * the MA value, so a bad-signature test still sends nothing valid. Default false (both are sent).
   */
  masterSignatureOnly?: boolean;
  fetch?: typeof fetch;
  /** Abort a request after this long (reported as an http_error with status 0). Default: no limit. */
  timeoutMs?: number;
  /** Billing pulse for BillDuration. Default 60 s (per-minute pulses, usual for Indian voice). */
  billingIncrementSeconds?: number;
  /** Per-minute rate sent as BillRate. */
  billRate?: string;
}

/** Per-request controls for tests that need to misbehave on purpose. */
export interface RequestOptions {
  method?: HttpMethod;
  signatureVersion?: SignatureMode;
  /** Reuse a nonce (replay tests); otherwise a fresh random 20-digit one. */
  nonce?: string;
  /** Replaces the computed account signature header value (bad-signature tests; the MA one in masterSignatureOnly). */
  signatureOverride?: string;
  /** Sign with another token than the simulator's (wrong-token tests). */
  authToken?: string;
  /** Applied last; a null value removes the header (e.g. drop the nonce header). */
  headersOverride?: Record<string, string | null>;
  timeoutMs?: number;
}

export interface SimResponse {
  /** The URL actually requested (for GET, with the fields appended to the query). */
  url: string;
  method: HttpMethod;
  /** The form fields sent. */
  fields: Record<string, string>;
  /** Headers sent, as given to fetch. */
  requestHeaders: Record<string, string>;
  nonce?: string;
  status: number;
  contentType: string;
  body: string;
  elapsedMs: number;
}

export interface CallResult {
  callUuid: string;
  from: string;
  to: string;
  direction: Direction;
  /** When the carrier sent the first request; StartTime of the hangup notice. */
  startedAt: Date;
  status: number;
  contentType: string;
  xml: string;
  kind: CallKind;
  dial?: DialInfo;
  record?: RecordInfo;
  gather?: GatherInfo;
  speak?: string[];
  hangupReason?: string;
  hangupFirst?: boolean;
  verbs: VobizElement[];
  /** Protocol breaches short of invalid XML (see ParsedVobizXml.problems), plus a wrong Content-Type. */
  problems: string[];
  /** Why the call would be dropped (invalid_xml / http_error). */
  error?: string;
  /** 7011 (answer URL error) or 8011 (invalid XML) when the carrier would drop the call. */
  hangupCauseCode?: number;
  request: SimResponse;
}

export interface PlaceCallOptions extends Omit<RequestOptions, "method"> {
  from: string;
  to: string;
  callUuid?: string;
  direction?: Direction;
  /** Extra or replacement fields, e.g. `{ ForwardedFrom: "+91..." }`. Applied last. */
  extra?: Record<string, string>;
}

export interface CompleteCallOptions {
  /** Outcome of the `<Dial>`; default completed. Ignored for calls that were not dialled. */
  dialStatus?: DialStatus;
  /** Seconds the A-leg was up (answered to hangup). Default 0. */
  durationSeconds?: number;
  /** The A-leg's hangup cause; defaults follow the outcome (NORMAL_CLEARING, CALL_REJECTED, ...). */
  hangupCause?: string;
  hangupCauseCode?: number;
  extra?: Record<string, string>;
}

export interface CompleteCallResult {
  dialAction?: SimResponse & { parsed: ParsedVobizXml };
  hangup: SimResponse & { parsed: ParsedVobizXml };
}

/** A recording the callback reports when no REST simulator keeps it. */
export interface ReportedRecording {
  recordingId: string;
  recordUrl: string;
  durationSeconds: number;
}

export interface PostRecordingOptions extends Omit<RequestOptions, "method"> {
  /** With a VobizRestServer: how long the recording it creates lasts. Default 5 s. */
  durationMs?: number;
  /** When the recording stopped (RecordingEndMs). Default now. */
  endedAt?: Date;
}

export interface HangupNotice {
  callUuid: string;
  from: string;
  to: string;
  direction?: Direction;
  /** Terminal status; default completed. */
  callStatus?: string;
  startedAt?: Date;
  /** False for calls that were never answered: AnswerTime empty, durations 0. Default true when durationSeconds > 0. */
  answered?: boolean;
  durationSeconds?: number;
  billDurationSeconds?: number;
  hangupCause?: string;
  hangupCauseCode?: number;
  extra?: Record<string, string>;
}

const XML_CONTENT_TYPES = /^(application|text)\/xml\b/i;

// Numeric codes from docs/carrier-protocol.md section 4; the names are Plivo-style labels (Vobiz does not document them).
const HANGUP_CAUSE_NAMES: Record<number, string> = {
  4000: "Normal Hangup",
  3000: "No Answer",
  3010: "Busy Line",
  3020: "Call Rejected",
  3030: "Unknown Caller ID",
  3050: "Unallocated Number",
  6010: "Ring Timeout Reached",
  7011: "Answer URL Error",
  8011: "Invalid Answer XML",
  9000: "Lost Race",
};

// DialHangupCause and whether the B-leg rang, per DialStatus (Plivo's textual causes).
const DIAL_OUTCOMES: Record<DialStatus, { cause: string; rang: boolean }> = {
  completed: { cause: "NORMAL_CLEARING", rang: true },
  busy: { cause: "USER_BUSY", rang: false },
  failed: { cause: "UNALLOCATED_NUMBER", rang: false },
  timeout: { cause: "NO_ANSWER", rang: true },
  "no-answer": { cause: "NO_ANSWER", rang: true },
  cancel: { cause: "ORIGINATOR_CANCEL", rang: true },
};

/** A random 20-digit nonce, as Vobiz sends (first digit non-zero so it is always 20 digits). */
export function randomNonce(): string {
  let s = String(randomInt(1, 10));
  for (let i = 0; i < 19; i++) s += String(randomInt(0, 10));
  return s;
}

/** Vobiz's time format: `YYYY-MM-DD HH:MM:SS` (UTC here). */
export function vobizTime(d: Date): string {
  return d.toISOString().slice(0, 19).replace("T", " ");
}

function withQuery(url: string, fields: Record<string, string>): string {
  const hash = url.indexOf("#");
  const bare = hash === -1 ? url : url.slice(0, hash);
  const query = new URLSearchParams(fields).toString();
  if (query === "") return bare;
  return bare + (bare.includes("?") ? "&" : "?") + query;
}

/** A verb's `method` attribute as the carrier reads it: GET when it says so, POST otherwise. */
function methodOf(method: string | undefined): HttpMethod {
  return method?.toUpperCase() === "GET" ? "GET" : "POST";
}

export class VobizSimulator {
  readonly options: Readonly<VobizSimulatorOptions>;
  private readonly fetchImpl: typeof fetch;

  constructor(options: VobizSimulatorOptions) {
    this.options = { ...options };
    this.fetchImpl = options.fetch ?? globalThis.fetch;
  }

  /**
   * One signed carrier request. Signature headers are computed over the URL without its query (what Vobiz signs),
   * with a fresh nonce unless one is given. Network failures and timeouts throw; callers that model the carrier
   * (placeCall) turn them into an http_error.
   */
  async request(url: string, fields: Record<string, string>, opts: RequestOptions = {}): Promise<SimResponse> {
    const method = opts.method ?? this.options.method ?? "POST";
    const version = opts.signatureVersion ?? this.options.signatureVersion ?? "v3";
    const target = method === "GET" ? withQuery(url, fields) : url;

    const headers: Record<string, string> = { "User-Agent": "VobizSimulator/1.0 (maskline tests)" };
    if (method === "POST") headers["Content-Type"] = "application/x-www-form-urlencoded";
    let nonce: string | undefined;
    if (version !== "none") {
      nonce = opts.nonce ?? randomNonce();
      const tag = version === "v3" ? "V3" : "V2";
      const base = signatureBaseUrl(url);
      const parent = this.options.parentAuthToken;
      const masterOnly = parent !== undefined && this.options.masterSignatureOnly === true;
      if (!masterOnly) {
        headers[`X-Vobiz-Signature-${tag}`] =
          opts.signatureOverride ?? computeSignature(version, opts.authToken ?? this.options.authToken, base, nonce);
      }
      headers[`X-Vobiz-Signature-${tag}-Nonce`] = nonce;
      if (parent !== undefined) {
        headers[`X-Vobiz-Signature-MA-${tag}`] =
          (masterOnly ? opts.signatureOverride : undefined) ?? computeSignature(version, parent, base, nonce);
      }
    }
    for (const [name, value] of Object.entries(opts.headersOverride ?? {})) {
      for (const existing of Object.keys(headers)) if (existing.toLowerCase() === name.toLowerCase()) delete headers[existing];
      if (value !== null) headers[name] = value;
    }

    const timeoutMs = opts.timeoutMs ?? this.options.timeoutMs;
    const started = performance.now();
    // Redirects are not followed: a 3xx is not an XML reply, so the carrier treats it like any other non-2xx.
    const res = await this.fetchImpl(target, {
      method,
      headers,
      body: method === "POST" ? new URLSearchParams(fields).toString() : undefined,
      redirect: "manual",
      signal: timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs),
    });
    const body = await res.text();
    const result: SimResponse = {
      url: target,
      method,
      fields: { ...fields },
      requestHeaders: headers,
      status: res.status,
      contentType: res.headers.get("content-type") ?? "",
      body,
      elapsedMs: performance.now() - started,
    };
    if (nonce !== undefined) result.nonce = nonce;
    return result;
  }

  /** The first request of an inbound call (Event=StartApp), and how the carrier reads the reply. */
  async placeCall(opts: PlaceCallOptions): Promise<CallResult> {
    const callUuid = opts.callUuid ?? randomUUID();
    const direction = opts.direction ?? "inbound";
    const fields: Record<string, string> = {
      CallUUID: callUuid,
      From: opts.from,
      To: opts.to,
      Direction: direction,
      CallStatus: "ringing",
      Event: "StartApp",
      CallerName: opts.from,
      BillRate: this.options.billRate ?? "0.45000",
    };
    // Only calls placed through the REST API carry the A-leg ids (request_uuid is the A-leg's CallUUID).
    if (direction === "outbound") {
      fields.ALegUUID = callUuid;
      fields.ALegRequestUUID = callUuid;
    }
    Object.assign(fields, opts.extra);

    const startedAt = new Date();
    const base = { callUuid, from: opts.from, to: opts.to, direction, startedAt };
    const requestOpts: RequestOptions = {
      signatureVersion: opts.signatureVersion,
      nonce: opts.nonce,
      signatureOverride: opts.signatureOverride,
      authToken: opts.authToken,
      headersOverride: opts.headersOverride,
      timeoutMs: opts.timeoutMs,
    };
    let response: SimResponse;
    try {
      response = await this.request(this.options.answerUrl, fields, requestOpts);
    } catch (err) {
      // Unreachable or too slow: the carrier gets no XML, which is an answer URL error.
      const failed: SimResponse = {
        url: this.options.answerUrl,
        method: this.options.method ?? "POST",
        fields,
        requestHeaders: {},
        status: 0,
        contentType: "",
        body: "",
        elapsedMs: 0,
      };
      return {
        ...base,
        status: 0,
        contentType: "",
        xml: "",
        kind: "http_error",
        verbs: [],
        problems: [],
        error: `request failed: ${(err as Error).message}`,
        hangupCauseCode: 7011,
        request: failed,
      };
    }
    return { ...base, ...this.readReply(response), request: response };
  }

  /**
   * Ends a call the way the carrier reports it: for a dialled call, the `<Dial action>` callback first, then the
   * hangup notice; for anything else, only the hangup notice, with a cause matching what happened.
   */
  async completeCall(call: CallResult, opts: CompleteCallOptions = {}): Promise<CompleteCallResult> {
    const notice = this.hangupNotice(call, opts);
    const result: Partial<CompleteCallResult> = {};
    if (call.kind === "dial" && call.dial?.action !== undefined) result.dialAction = await this.sendDialAction(call, opts.dialStatus);
    const hangup = await this.sendHangup(notice);
    return { ...result, hangup };
  }

  /** The end-of-call notice the carrier sends for this call, with a cause matching what its reply did. */
  hangupNotice(call: CallResult, opts: CompleteCallOptions = {}): HangupNotice {
    const duration = opts.durationSeconds ?? 0;
    const notice: HangupNotice = {
      callUuid: call.callUuid,
      from: call.from,
      to: call.to,
      direction: call.direction,
      startedAt: call.startedAt,
      durationSeconds: duration,
    };
    if (opts.extra) notice.extra = opts.extra;

    if (call.kind === "dial" && call.dial) {
      // When the Dial ends (whatever its outcome) and no verb follows, the carrier hangs the caller up normally.
      notice.answered = true;
      notice.hangupCause = opts.hangupCause ?? "NORMAL_CLEARING";
      notice.hangupCauseCode = opts.hangupCauseCode ?? 4000;
    } else if (call.kind === "reject") {
      // Hangup as the first verb refuses the call unanswered; after a Speak it was answered to play the message.
      notice.answered = call.hangupFirst === false;
      if (!notice.answered) notice.durationSeconds = 0;
      notice.hangupCause = opts.hangupCause ?? "CALL_REJECTED";
      notice.hangupCauseCode = opts.hangupCauseCode ?? 3020;
    } else if (call.kind === "invalid_xml" || call.kind === "http_error") {
      notice.answered = false;
      notice.durationSeconds = 0;
      notice.callStatus = "failed";
      notice.hangupCause = opts.hangupCause ?? (call.kind === "invalid_xml" ? "INVALID_ANSWER_XML" : "ANSWER_URL_ERROR");
      notice.hangupCauseCode = opts.hangupCauseCode ?? call.hangupCauseCode ?? 7011;
    } else {
      notice.hangupCause = opts.hangupCause ?? "NORMAL_CLEARING";
      notice.hangupCauseCode = opts.hangupCauseCode ?? 4000;
    }
    return notice;
  }

  /** The `<Dial action>` callback once the dialled leg ended with `status`. */
  async sendDialAction(call: CallResult, status: DialStatus = "completed", opts: RequestOptions = {}): Promise<SimResponse & { parsed: ParsedVobizXml }> {
    const action = call.dial?.action;
    if (action === undefined) throw new Error("the reply has no <Dial action>");
    const outcome = DIAL_OUTCOMES[status];
    const fields: Record<string, string> = {
      CallUUID: call.callUuid,
      From: call.from,
      To: call.to,
      Direction: call.direction,
      CallStatus: "in-progress",
      DialStatus: status,
      DialALegUUID: call.callUuid,
      DialBLegUUID: randomUUID(),
      DialHangupCause: outcome.cause,
      DialRingStatus: String(outcome.rang),
    };
    const res = await this.request(action, fields, { ...opts, method: methodOf(call.dial?.method) });
    return { ...res, parsed: parseVobizXml(res.body) };
  }

  /**
   * The caller typed `digits` at a `<Gather>`: the signed action callback, read like an answer reply, so a test can
   * go on with whatever it holds (a Dial, another Gather, a rejection).
   */
  async enterDigits(call: CallResult, digits: string, opts: Omit<RequestOptions, "method"> = {}): Promise<CallResult> {
    const action = call.gather?.action;
    if (action === undefined) throw new Error("the reply has no <Gather action>");
    const fields: Record<string, string> = {
      CallUUID: call.callUuid,
      From: call.from,
      To: call.to,
      Direction: call.direction,
      CallStatus: "in-progress",
      Digits: digits,
      InputType: "dtmf",
    };
    if (call.direction === "outbound") Object.assign(fields, { ALegUUID: call.callUuid, ALegRequestUUID: call.callUuid });
    const res = await this.request(action, fields, { ...opts, method: methodOf(call.gather?.method) });
    const { callUuid, from, to, direction, startedAt } = call;
    return { callUuid, from, to, direction, startedAt, ...this.readReply(res), request: res };
  }

  /**
   * The `<Record callbackUrl>` callback once the recording stopped. With a VobizRestServer the recording is created
   * there first (for the account whose token this simulator signs with), so its RecordUrl serves real bytes.
   */
  async postRecording(
    call: CallResult,
    rest: VobizRestServer | ReportedRecording,
    opts: PostRecordingOptions = {},
  ): Promise<SimResponse & { parsed: ParsedVobizXml; recordingId: string; recordUrl: string }> {
    const record = call.record;
    if (record?.callbackUrl === undefined) throw new Error("the reply has no <Record callbackUrl>");
    let reported: { recordingId: string; recordUrl: string; durationMs: number; format: string };
    if ("addRecording" in rest) {
      const format = record.fileFormat === "wav" ? "wav" : "mp3";
      const authId = rest.authIdForToken(this.options.authToken);
      const created = rest.addRecording({ authId, callUuid: call.callUuid, durationMs: opts.durationMs ?? 5_000, format });
      reported = { recordingId: created.recordingId, recordUrl: created.recordUrl, durationMs: created.durationMs, format };
    } else {
      const format = /\.wav$/i.test(new URL(rest.recordUrl).pathname) ? "wav" : (record.fileFormat ?? "mp3");
      reported = { recordingId: rest.recordingId, recordUrl: rest.recordUrl, durationMs: rest.durationSeconds * 1000, format };
    }
    const end = (opts.endedAt ?? new Date()).getTime();
    const fields: Record<string, string> = {
      CallUUID: call.callUuid,
      RecordingID: reported.recordingId,
      RecordUrl: reported.recordUrl,
      RecordingDuration: String(Math.round(reported.durationMs / 1000)),
      RecordingDurationMs: String(reported.durationMs),
      RecordingStartMs: String(end - reported.durationMs),
      RecordingEndMs: String(end),
      RecordingFormat: reported.format,
    };
    const { endedAt: _endedAt, durationMs: _durationMs, ...requestOpts } = opts;
    const res = await this.request(record.callbackUrl, fields, { ...requestOpts, method: methodOf(record.callbackMethod) });
    return { ...res, parsed: parseVobizXml(res.body), recordingId: reported.recordingId, recordUrl: reported.recordUrl };
  }

  /**
   * The end-of-call notice: to hangup_url when configured, otherwise to the answer URL (with Event=Hangup and a
   * terminal CallStatus, which is how the server tells it apart from a new call).
   */
  async sendHangup(notice: HangupNotice, opts: RequestOptions = {}): Promise<SimResponse & { parsed: ParsedVobizXml }> {
    const duration = notice.durationSeconds ?? 0;
    const answered = notice.answered ?? duration > 0;
    const start = notice.startedAt ?? new Date(Date.now() - duration * 1000);
    const end = new Date(start.getTime() + (answered ? duration : 0) * 1000);
    const increment = this.options.billingIncrementSeconds ?? 60;
    const billDuration = notice.billDurationSeconds ?? (answered ? Math.ceil(duration / increment) * increment : 0);
    const rate = this.options.billRate ?? "0.45000";
    const code = notice.hangupCauseCode ?? 4000;

    const fields: Record<string, string> = {
      CallUUID: notice.callUuid,
      From: notice.from,
      To: notice.to,
      Direction: notice.direction ?? "inbound",
      CallStatus: notice.callStatus ?? "completed",
      Event: "Hangup",
      Duration: String(answered ? duration : 0),
      BillDuration: String(billDuration),
      BillRate: rate,
      TotalCost: ((billDuration / 60) * Number(rate)).toFixed(5),
      StartTime: vobizTime(start),
      AnswerTime: answered ? vobizTime(start) : "",
      EndTime: vobizTime(end),
      HangupCause: notice.hangupCause ?? "NORMAL_CLEARING",
      HangupCauseCode: String(code),
      HangupCauseName: HANGUP_CAUSE_NAMES[code] ?? "Unknown",
    };
    if (notice.direction === "outbound") {
      fields.ALegUUID = notice.callUuid;
      fields.ALegRequestUUID = notice.callUuid;
    }
    Object.assign(fields, notice.extra);
    const res = await this.request(this.options.hangupUrl ?? this.options.answerUrl, fields, opts);
    return { ...res, parsed: parseVobizXml(res.body) };
  }

  /** How the carrier reads an answer reply: status first, then the XML. */
  private readReply(res: SimResponse): Omit<CallResult, "callUuid" | "from" | "to" | "direction" | "startedAt" | "request"> {
    const common = { status: res.status, contentType: res.contentType, xml: res.body };
    if (res.status < 200 || res.status > 299) {
      return {
        ...common,
        kind: "http_error",
        verbs: [],
        problems: [],
        error: `answer URL returned HTTP ${res.status}`,
        hangupCauseCode: 7011,
      };
    }
    const parsed = parseVobizXml(res.body);
    const problems = [...parsed.problems];
    if (!XML_CONTENT_TYPES.test(res.contentType)) {
      problems.push(`Content-Type is ${res.contentType || "missing"}, expected application/xml or text/xml`);
    }
    const out: ReturnType<VobizSimulator["readReply"]> = { ...common, kind: parsed.kind, verbs: parsed.verbs, problems };
    if (parsed.dial) out.dial = parsed.dial;
    if (parsed.record) out.record = parsed.record;
    if (parsed.gather) out.gather = parsed.gather;
    if (parsed.speak) out.speak = parsed.speak;
    if (parsed.hangupReason !== undefined) out.hangupReason = parsed.hangupReason;
    if (parsed.hangupFirst !== undefined) out.hangupFirst = parsed.hangupFirst;
    if (parsed.kind === "invalid_xml") {
      out.error = parsed.error ?? "invalid XML";
      out.hangupCauseCode = 8011;
    }
    return out;
  }
}
