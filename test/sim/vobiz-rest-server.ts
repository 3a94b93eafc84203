/**
 * The carrier's REST side, for tests and the demo: a real HTTP server on 127.0.0.1 that answers Vobiz's REST API
 * (Plivo's shapes, server/src/carrier/carrier.ts), so the client is tested over real sockets and the exact bytes
 * it sends (path casing, trailing slashes, headers, JSON fields) can be asserted. It routes as strictly as the real
 * API: a path without its trailing slash, or in another case, is a 404 like any mistyped path.
 *
 * It also plays the carrier's side of the calls placed through it (answer, Dial action, recording callback,
 * hangup notice), signed with the account's token by the inbound simulator's own code (vobiz-simulator.ts), so
 * the two sides cannot sign differently.
 */
import { createHash, randomUUID } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  VobizSimulator,
  vobizTime,
  type CallResult,
  type CompleteCallOptions,
  type CompleteCallResult,
  type HttpMethod,
  type PlaceCallOptions,
  type PostRecordingOptions,
  type SimResponse,
  type VobizSimulatorOptions,
} from "./vobiz-simulator.js";
import type { ParsedVobizXml } from "./vobiz-xml.js";

export interface SimAccount {
  authId: string;
  authToken: string;
}

export interface RecordedRestRequest {
  method: string;
  /** As requested: undecoded, without the query. */
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  /** Parsed JSON, else the raw text; undefined when empty. */
  body: unknown;
  /** The status answered (set once the answer is written; a stalled one gets it late). */
  status?: number;
}

export type PlacedCallStatus = "queued" | "in-progress" | "completed" | "canceled" | "no-answer" | "busy" | "failed";

export interface SimPlacedCall {
  requestUuid: string;
  authId: string;
  from: string;
  to: string;
  answerUrl: string;
  answerMethod: HttpMethod;
  hangupUrl: string;
  hangupMethod: HttpMethod;
  timeLimit: number;
  ringTimeout: number | null;
  status: PlacedCallStatus;
}

export interface SimRecording {
  recordingId: string;
  authId: string;
  callUuid: string;
  format: "mp3" | "wav";
  durationMs: number;
  addedAt: Date;
  bytes: Buffer;
  /** Where the media is served (on this server; it wants the account's X-Auth headers). */
  recordUrl: string;
}

export interface AddRecordingInput {
  authId: string;
  callUuid: string;
  /** Default 5 s. */
  durationMs?: number;
  format?: "mp3" | "wav";
  /** Default: a few KB of deterministic pseudo-audio. */
  bytes?: Buffer;
  addedAt?: Date;
}

export interface VobizRestServerOptions {
  accounts?: SimAccount[];
  /** Where to listen on 127.0.0.1 (the demo uses a fixed one the service is configured with); default any free port. */
  port?: number;
  /** For the callbacks it sends about placed calls. */
  simulator?: Pick<VobizSimulatorOptions, "fetch" | "timeoutMs" | "signatureVersion" | "billingIncrementSeconds" | "billRate">;
}

export type AnswerPlacedCallOptions = Omit<PlaceCallOptions, "from" | "to" | "callUuid" | "direction">;

export interface CompletePlacedCallOptions extends CompleteCallOptions {
  /** The hangup notice's CallStatus; default completed (failed when the reply was unusable). */
  callStatus?: "completed" | "no-answer" | "busy" | "failed";
  /** The recording a `<Record callbackUrl>` asked for: its length (default the call's, at least 1 s), or false for none. */
  recording?: { durationMs?: number } | false;
}

export interface CompletePlacedCallResult extends CompleteCallResult {
  recording?: SimResponse & { parsed: ParsedVobizXml; recordingId: string; recordUrl: string };
}

/** A reply to the next request instead of the real one (failure injection); a string body is sent as text. */
interface Injection {
  reply?: { status: number; body: unknown; contentType?: string };
  /** Answer after this long (the request is still acted on: a stalled place call was placed). */
  stallMs?: number;
  /** Send the headers and half the body now, the rest after this long. */
  stallBodyMs?: number;
}

interface Reply {
  status: number;
  body?: Buffer;
  contentType?: string;
}

const API = "/api/v1";
const ROUTES = {
  calls: /^\/api\/v1\/Account\/([^/]+)\/Call\/$/,
  call: /^\/api\/v1\/Account\/([^/]+)\/Call\/([^/]+)\/$/,
  recordings: /^\/api\/v1\/Account\/([^/]+)\/Recording\/$/,
  recording: /^\/api\/v1\/Account\/([^/]+)\/Recording\/([^/]+)\/$/,
};
const MEDIA = /^\/media\/([^/]+)\.(mp3|wav)$/;
const MAX_BODY_BYTES = 1024 * 1024;
/** Plivo's page size: 20 by default and at most. */
const MAX_PAGE = 20;
const FAILED_CALL_CAUSES = { "no-answer": ["NO_ANSWER", 3000], busy: ["USER_BUSY", 3010], failed: ["UNALLOCATED_NUMBER", 3050] } as const;

const json = (status: number, body: Record<string, unknown>): Reply => ({
  status,
  body: Buffer.from(JSON.stringify({ api_id: randomUUID(), ...body })),
  contentType: "application/json",
});
const refusal = (status: number, error: string): Reply => json(status, { error });

function decode(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

/** A few KB that look like audio to a sniffer (MP3 frame syncs, or a RIFF/WAVE header) and repeat for the same seed. */
export function pseudoAudio(seed: string, format: "mp3" | "wav"): Buffer {
  let state = createHash("sha256").update(seed).digest().readUInt32LE(0);
  const next = () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) >>> 24;
  if (format === "mp3") {
    // Ten 128 kbit/s, 44.1 kHz MPEG-1 Layer III frames of 417 bytes: header FF FB 90 64, then "audio".
    const frames = Array.from({ length: 10 }, () => Buffer.from([0xff, 0xfb, 0x90, 0x64, ...Array.from({ length: 413 }, next)]));
    return Buffer.concat(frames);
  }
  const samples = Buffer.from(Array.from({ length: 4000 }, next));
  const header = Buffer.alloc(44);
  header.write("RIFF", 0);
  header.writeUInt32LE(36 + samples.length, 4);
  header.write("WAVEfmt ", 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(8000, 24);
  header.writeUInt32LE(16000, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write("data", 36);
  header.writeUInt32LE(samples.length, 40);
  return Buffer.concat([header, samples]);
}

export class VobizRestServer {
  /** Every request, in arrival order. */
  readonly requests: RecordedRestRequest[] = [];
  readonly calls = new Map<string, SimPlacedCall>();
  readonly recordings = new Map<string, SimRecording>();
  private readonly accounts = new Map<string, SimAccount>();
  private readonly injections: Injection[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(
    private readonly server: Server,
    /** `http://127.0.0.1:PORT`: the media URLs' origin, the API's too. */
    readonly origin: string,
    private readonly options: VobizRestServerOptions,
  ) {
    for (const account of options.accounts ?? []) this.addAccount(account);
  }

  static async start(options: VobizRestServerOptions = {}): Promise<VobizRestServer> {
    let sim: VobizRestServer | undefined;
    const server = createServer((req, res) => {
      sim?.handle(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
        res.end("simulator error");
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
    });
    sim = new VobizRestServer(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`, options);
    return sim;
  }

  /** VOBIZ_API_BASE_URL for a client of this server. */
  get baseUrl(): string {
    return this.origin + API;
  }

  addAccount(account: SimAccount): void {
    this.accounts.set(account.authId, { ...account });
  }

  authIdForToken(authToken: string): string {
    for (const account of this.accounts.values()) if (account.authToken === authToken) return account.authId;
    throw new Error("no account has this auth token");
  }

  /** The next authenticated request gets `status` with `{api_id, error}` (or `error` as plain text) instead of its answer. */
  failNext(status: number, error = "simulated failure", opts: { plainText?: boolean } = {}): void {
    this.respondNext(status, opts.plainText ? error : { api_id: randomUUID(), error });
  }

  /** The next authenticated request gets exactly this: an object as JSON, a string as text. */
  respondNext(status: number, body: unknown, contentType?: string): void {
    this.injections.push({ reply: contentType === undefined ? { status, body } : { status, body, contentType } });
  }

  /** The next authenticated request is acted on, but answered only after `ms`. */
  stallNext(ms: number): void {
    this.injections.push({ stallMs: ms });
  }

  /** The next authenticated request gets its headers and half its body, the rest only after `ms`. */
  stallNextBody(ms: number): void {
    this.injections.push({ stallBodyMs: ms });
  }

  addRecording(input: AddRecordingInput): SimRecording {
    if (!this.accounts.has(input.authId)) throw new Error(`unknown account ${input.authId}`);
    const recordingId = randomUUID();
    const format = input.format ?? "mp3";
    const recording: SimRecording = {
      recordingId,
      authId: input.authId,
      callUuid: input.callUuid,
      format,
      durationMs: input.durationMs ?? 5_000,
      addedAt: input.addedAt ?? new Date(),
      bytes: input.bytes ?? pseudoAudio(recordingId, format),
      recordUrl: `${this.origin}/media/${recordingId}.${format}`,
    };
    this.recordings.set(recordingId, recording);
    return recording;
  }

  /** A recording as the API describes it (Plivo's fields). */
  recordingJson(recording: SimRecording): Record<string, unknown> {
    const call = this.calls.get(recording.callUuid);
    const end = recording.addedAt.getTime();
    return {
      add_time: vobizTime(recording.addedAt),
      call_uuid: recording.callUuid,
      conference_name: null,
      from_number: call?.from ?? null,
      to_number: call?.to ?? null,
      recording_duration_ms: String(recording.durationMs),
      recording_start_ms: String(end - recording.durationMs),
      recording_end_ms: String(end),
      recording_format: recording.format,
      recording_id: recording.recordingId,
      recording_type: "call",
      recording_url: recording.recordUrl,
      resource_uri: `${API}/Account/${encodeURIComponent(recording.authId)}/Recording/${recording.recordingId}/`,
      rounded_recording_duration: Math.ceil(recording.durationMs / 60_000) * 60,
    };
  }

  /** The called party picked up: the signed answer request to the call's answer_url, read like the carrier reads it. */
  async answerPlacedCall(requestUuid: string, opts: AnswerPlacedCallOptions = {}): Promise<CallResult> {
    const call = this.placedCall(requestUuid);
    const extra = { CallStatus: "in-progress", ...opts.extra };
    const result = await this.simulatorFor(call).placeCall({ ...opts, from: call.from, to: call.to, callUuid: requestUuid, direction: "outbound", extra });
    call.status = "in-progress";
    return result;
  }

  /**
   * Plays the rest of an answered call: the Dial action callback (when the reply dialled), the recording callback
   * (when it had a `<Record callbackUrl>`, with a recording created here), then the hangup notice to hangup_url.
   */
  async completePlacedCall(requestUuid: string, result: CallResult, opts: CompletePlacedCallOptions = {}): Promise<CompletePlacedCallResult> {
    const call = this.placedCall(requestUuid);
    const sim = this.simulatorFor(call);
    const done: Partial<CompletePlacedCallResult> = {};
    if (result.kind === "dial" && result.dial?.action !== undefined) done.dialAction = await sim.sendDialAction(result, opts.dialStatus);
    const usable = result.kind !== "http_error" && result.kind !== "invalid_xml";
    if (usable && result.record?.callbackUrl !== undefined && opts.recording !== false) {
      const recording: PostRecordingOptions = { durationMs: opts.recording?.durationMs ?? Math.max(1, opts.durationSeconds ?? 0) * 1000 };
      done.recording = await sim.postRecording(result, this, recording);
    }
    const notice = sim.hangupNotice(result, opts);
    if (opts.callStatus) notice.callStatus = opts.callStatus;
    const hangup = await sim.sendHangup(notice, { method: call.hangupMethod });
    call.status = (notice.callStatus as PlacedCallStatus | undefined) ?? "completed";
    return { ...done, hangup };
  }

  /** The called party never answered: only the hangup notice, with the matching cause. */
  async failPlacedCall(requestUuid: string, status: "no-answer" | "busy" | "failed"): Promise<SimResponse & { parsed: ParsedVobizXml }> {
    const call = this.placedCall(requestUuid);
    const [hangupCause, hangupCauseCode] = FAILED_CALL_CAUSES[status];
    const notice = { callUuid: requestUuid, from: call.from, to: call.to, direction: "outbound" as const, callStatus: status };
    const res = await this.simulatorFor(call).sendHangup(
      { ...notice, answered: false, durationSeconds: 0, hangupCause, hangupCauseCode },
      { method: call.hangupMethod },
    );
    call.status = status;
    return res;
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private placedCall(requestUuid: string): SimPlacedCall {
    const call = this.calls.get(requestUuid);
    if (!call) throw new Error(`no placed call ${requestUuid}`);
    return call;
  }

  private simulatorFor(call: SimPlacedCall): VobizSimulator {
    const { authToken } = this.accounts.get(call.authId)!;
    return new VobizSimulator({ ...this.options.simulator, authToken, answerUrl: call.answerUrl, hangupUrl: call.hangupUrl, method: call.answerMethod });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.origin);
    const raw = await readBody(req);
    const entry: RecordedRestRequest = {
      method: req.method ?? "",
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body: raw === null ? undefined : parseBody(raw),
    };
    this.requests.push(entry);
    if (raw === null) return this.send(res, entry, refusal(413, "request body too large"));

    const account = this.authenticate(req.headers);
    const media = MEDIA.exec(url.pathname);
    if (media) {
      const recording = this.recordings.get(decode(media[1]!) ?? "");
      if (!recording || recording.format !== media[2]) return this.send(res, entry, refusal(404, "not found"));
      if (account?.authId !== recording.authId) return this.send(res, entry, refusal(401, "authentication failed"));
      if (req.method !== "GET") return this.send(res, entry, refusal(405, "method not allowed"));
      const injection = this.injections.shift();
      if (injection?.reply) return this.send(res, entry, cannedReply(injection.reply));
      const contentType = recording.format === "mp3" ? "audio/mpeg" : "audio/wav";
      return this.send(res, entry, { status: 200, body: recording.bytes, contentType }, injection);
    }

    const route = Object.entries(ROUTES).find(([, pattern]) => pattern.test(url.pathname));
    if (!route) return this.send(res, entry, refusal(404, "not found"));
    if (!account) return this.send(res, entry, refusal(401, "authentication failed"));
    const [, pathId, item] = route[1].exec(url.pathname)!;
    if (decode(pathId!) !== account.authId) return this.send(res, entry, refusal(403, "auth id in the path is not X-Auth-ID's"));
    const id = item === undefined ? null : decode(item);

    const injection = this.injections.shift();
    if (injection?.reply) return this.send(res, entry, cannedReply(injection.reply));
    const reply = this.route(route[0] as keyof typeof ROUTES, req, entry, account, id, url.searchParams);
    this.send(res, entry, reply, injection);
  }

  private route(name: keyof typeof ROUTES, req: IncomingMessage, entry: RecordedRestRequest, account: SimAccount, id: string | null, query: URLSearchParams): Reply {
    const method = req.method;
    if (name === "calls" && method === "POST") return this.placeCall(req, entry.body, account);
    if (name === "call" && method === "DELETE") return this.hangUp(account, id);
    if (name === "recordings" && method === "GET") return this.listRecordings(account, query);
    const recording = id === null ? undefined : this.recordings.get(id);
    const found = recording?.authId === account.authId ? recording : undefined;
    if (name === "recording" && method === "GET") return found ? json(200, this.recordingJson(found)) : refusal(404, "recording not found");
    if (name === "recording" && method === "DELETE") {
      if (!found) return refusal(404, "recording not found");
      this.recordings.delete(found.recordingId);
      return { status: 204 };
    }
    return refusal(405, "method not allowed");
  }

  private placeCall(req: IncomingMessage, body: unknown, account: SimAccount): Reply {
    if (!/^application\/json\b/i.test(req.headers["content-type"] ?? "")) return refusal(400, "Content-Type must be application/json");
    if (typeof body !== "object" || body === null || Array.isArray(body)) return refusal(400, "the body must be a JSON object");
    const b = body as Record<string, unknown>;
    const problem = callProblem(b);
    if (problem) return refusal(400, problem);
    const call: SimPlacedCall = {
      requestUuid: randomUUID(),
      authId: account.authId,
      from: b.from as string,
      to: b.to as string,
      answerUrl: b.answer_url as string,
      answerMethod: b.answer_method as HttpMethod,
      hangupUrl: b.hangup_url as string,
      hangupMethod: b.hangup_method as HttpMethod,
      timeLimit: b.time_limit as number,
      ringTimeout: (b.ring_timeout as number | undefined) ?? null,
      status: "queued",
    };
    this.calls.set(call.requestUuid, call);
    return json(201, { request_uuid: call.requestUuid, message: "Call fired" });
  }

  /**
   * Only a live call can be hung up; one that ended (or never was) is a 404, as on Plivo. No hangup notice is sent
   * from here: a test sends it when it wants to, with completePlacedCall or failPlacedCall.
   */
  private hangUp(account: SimAccount, uuid: string | null): Reply {
    const call = uuid === null ? undefined : this.calls.get(uuid);
    if (!call || call.authId !== account.authId || (call.status !== "queued" && call.status !== "in-progress")) return refusal(404, "call not found");
    call.status = call.status === "queued" ? "canceled" : "completed";
    return { status: 204 };
  }

  private listRecordings(account: SimAccount, query: URLSearchParams): Reply {
    const limit = Number(query.get("limit") ?? MAX_PAGE);
    const offset = Number(query.get("offset") ?? 0);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) return refusal(400, `limit must be 1-${MAX_PAGE}`);
    if (!Number.isInteger(offset) || offset < 0) return refusal(400, "offset must be 0 or more");
    const callUuid = query.get("call_uuid");
    const mine = [...this.recordings.values()]
      .filter((r) => r.authId === account.authId && (callUuid === null || r.callUuid === callUuid))
      .reverse()
      .sort((a, b) => b.addedAt.getTime() - a.addedAt.getTime());
    const page = (at: number) => {
      const q = new URLSearchParams({ limit: String(limit), offset: String(at) });
      if (callUuid !== null) q.set("call_uuid", callUuid);
      return `${API}/Account/${encodeURIComponent(account.authId)}/Recording/?${q}`;
    };
    const meta = {
      limit,
      offset,
      total_count: mine.length,
      next: offset + limit < mine.length ? page(offset + limit) : null,
      previous: offset > 0 ? page(Math.max(0, offset - limit)) : null,
    };
    return json(200, { meta, objects: mine.slice(offset, offset + limit).map((r) => this.recordingJson(r)) });
  }

  private authenticate(headers: IncomingHttpHeaders): SimAccount | null {
    const account = this.accounts.get(String(headers["x-auth-id"] ?? ""));
    return account && headers["x-auth-token"] === account.authToken ? account : null;
  }

  private send(res: ServerResponse, entry: RecordedRestRequest, reply: Reply, injection?: Injection): void {
    const write = (chunk?: Buffer) => {
      if (res.destroyed) return;
      if (!res.headersSent) {
        entry.status = reply.status;
        const headers: Record<string, string> = { "content-length": String(reply.body?.length ?? 0) };
        if (reply.contentType) headers["content-type"] = reply.contentType;
        res.writeHead(reply.status, headers);
      }
      if (chunk) res.write(chunk);
    };
    const later = (ms: number, then: () => void) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        then();
      }, ms);
      this.timers.add(timer);
    };
    const body = reply.body ?? Buffer.alloc(0);
    if (injection?.stallMs !== undefined) return later(injection.stallMs, () => this.send(res, entry, reply));
    if (injection?.stallBodyMs !== undefined) {
      const half = Math.floor(body.length / 2);
      write(body.subarray(0, half));
      return later(injection.stallBodyMs, () => {
        write(body.subarray(half));
        if (!res.destroyed) res.end();
      });
    }
    write(body);
    res.end();
  }
}

/** What is wrong with a `POST Call/` body, in Plivo's words, or null. */
function callProblem(b: Record<string, unknown>): string | null {
  for (const field of ["from", "to", "answer_url", "answer_method", "hangup_url", "hangup_method", "time_limit"]) {
    if (b[field] === undefined || b[field] === null || b[field] === "") return `${field} is required`;
  }
  for (const field of ["from", "to"]) if (typeof b[field] !== "string") return `${field} must be a string`;
  for (const field of ["answer_url", "hangup_url"]) {
    if (typeof b[field] !== "string" || !/^https?:\/\/[^/?#]+/i.test(b[field])) return `${field} must be an absolute http(s) URL`;
  }
  for (const field of ["answer_method", "hangup_method"]) if (b[field] !== "GET" && b[field] !== "POST") return `${field} must be GET or POST`;
  for (const field of ["time_limit", "ring_timeout"]) {
    const v = b[field];
    if (v !== undefined && (typeof v !== "number" || !Number.isInteger(v) || v < 1)) return `${field} must be a positive integer`;
  }
  return null;
}

function cannedReply(canned: { status: number; body: unknown; contentType?: string }): Reply {
  if (typeof canned.body === "string") return { status: canned.status, body: Buffer.from(canned.body), contentType: canned.contentType ?? "text/plain" };
  if (canned.body === undefined) return { status: canned.status };
  return { status: canned.status, body: Buffer.from(JSON.stringify(canned.body)), contentType: canned.contentType ?? "application/json" };
}

/** The request's body as text, or null past 1 MiB. */
function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on("end", () => resolve(size > MAX_BODY_BYTES ? null : Buffer.concat(chunks).toString("utf8")));
    req.on("error", () => resolve(null));
  });
}

function parseBody(raw: string): unknown {
  if (raw === "") return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}
