/**
 * The carrier port spoken to Vobiz's REST API (Plivo's, nearly 1:1): `X-Auth-ID`/`X-Auth-Token` headers (not
 * Basic auth), JSON bodies, paths under `/Account/{auth_id}/` with the exact casing and trailing slashes the API
 * routes on. Every call is bounded (a deadline from connect to the last body byte, 1 MiB of JSON at most), so a
 * slow carrier costs a request its deadline, never a worker. It logs nothing: what failed is in the thrown error,
 * whose kind says what the caller may do next (carrier.ts), and the token is in none of them.
 *
 * Recording media is the one URL the carrier hands us. Credentials go only to the API's own origin; any other is
 * fetched like a tenant's webhook (outbound/): https, public addresses checked at every connection, no redirects.
 */
import { systemResolver, type Resolver } from "../outbound/endpoint-url.js";
import { guardedLookup } from "../outbound/guarded-lookup.js";
import { parseUrl, urlRuleBroken } from "../outbound/url-rules.js";
import {
  CarrierError,
  CarrierOutcomeUnknown,
  CarrierUnreachable,
  type Carrier,
  type CarrierAccount,
  type CarrierOperation,
  type CarrierRecording,
  type PlaceCallRequest,
  type RecordingMedia,
  type RecordingQuery,
} from "./carrier.js";
import { keepAliveAgents, open, readBody, streamBody, type Exchange } from "./http-exchange.js";
import { carrierReason, parseJson, placedCallFrom, recordingFrom, recordingsFrom } from "./vobiz-rest-json.js";

export const MAX_API_BODY_BYTES = 1024 * 1024;
/** Longer than any call we keep (a 4-hour time limit in stereo WAV at 8 kHz is about 230 MB). */
export const MAX_MEDIA_BYTES = 512 * 1024 * 1024;
/** A refusal's text is kept for its reason only: 64 KiB is plenty and bounds what a media host can make us read. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;
const USER_AGENT = "Maskline/1";

export interface VobizRestTimeouts {
  /** From connect to the last byte of the answer, for every API call but placing one. Default 10 s. */
  apiMs?: number;
  /** The same for `POST Call/`; past it the call's outcome is unknown. Default 10 s. */
  placeCallMs?: number;
  /** From connect to the media's response headers. Default 10 s. */
  mediaHeadersMs?: number;
  /** A media body that sends nothing for this long while being read fails. Default 30 s. */
  mediaIdleMs?: number;
}

export interface VobizRestOptions {
  /** VOBIZ_API_BASE_URL, e.g. `https://api.vobiz.ai/api/v1` (a trailing slash is ignored). */
  baseUrl: string;
  /** Let media on another origin be plain http on a private address (tests and the local demo only). */
  allowPrivateMedia: boolean;
  timeouts?: VobizRestTimeouts;
  /** Resolves every host name, the API's included; tests map public-looking names to 127.0.0.1. */
  resolve?: Resolver;
}

export interface VobizRestCarrier extends Carrier {
  /** Closes the pooled connections (shutdown and tests); requests after it open new ones. */
  close(): void;
}

const DEFAULT_TIMEOUTS: Required<VobizRestTimeouts> = { apiMs: 10_000, placeCallMs: 10_000, mediaHeadersMs: 10_000, mediaIdleMs: 30_000 };

type Method = Exchange["method"];

interface ApiCall {
  operation: CarrierOperation;
  account: CarrierAccount;
  method: Method;
  /** Below `/Account/{auth_id}/`, with its trailing slash. */
  path: string;
  query?: URLSearchParams;
  json?: unknown;
  timeoutMs: number;
}

export function createVobizRestCarrier(options: VobizRestOptions): VobizRestCarrier {
  const base = apiBase(options.baseUrl);
  const apiOrigin = new URL(base).origin;
  const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  // Separate pools: a socket opened to the API (trusted by configuration) is never lent to a media host's URL.
  const apiAgents = keepAliveAgents();
  const mediaAgents = keepAliveAgents();
  const apiLookup = options.resolve ? guardedLookup({ allowPrivate: true, resolve: options.resolve }) : undefined;
  const mediaLookup = guardedLookup({ allowPrivate: options.allowPrivateMedia, resolve: options.resolve ?? systemResolver });
  const toApi = { agents: apiAgents, lookup: apiLookup };
  const toMediaHost = { agents: mediaAgents, lookup: mediaLookup };

  /** One API call's answer body on a 2xx; a refusal is a CarrierError, an unreadable 2xx an unknown outcome. */
  async function api(call: ApiCall): Promise<unknown> {
    const deadline = performance.now() + call.timeoutMs;
    const url = new URL(`${base}/Account/${segment("authId", call.account.authId)}/${call.path}`);
    if (call.query) url.search = call.query.toString();
    const body = call.json === undefined ? undefined : JSON.stringify(call.json);
    const headers: Record<string, string> = { ...credentials(call.account), Accept: "application/json", "User-Agent": USER_AGENT };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      headers["Content-Length"] = String(Buffer.byteLength(body));
    }
    const { operation, method } = call;
    const { res } = await open({ operation, method, url, headers, body, deadline, idempotent: method !== "POST", ...toApi });
    const status = res.statusCode ?? 0;
    const read = await readBody(res, MAX_API_BODY_BYTES, deadline);
    if (status < 200 || status > 299) throw new CarrierError(operation, status, carrierReason(read.bytes, status, [call.account.authToken]));
    if (read.outcome !== "complete") throw new CarrierOutcomeUnknown(operation, read.outcome === "too large" ? "answer over 1 MiB" : `answer ${read.outcome}`);
    return read.bytes.length === 0 ? undefined : parseJson(read.bytes);
  }

  /** DELETE where "already gone" (404) is what the caller wanted anyway. */
  async function remove(operation: CarrierOperation, account: CarrierAccount, path: string): Promise<void> {
    try {
      await api({ operation, account, method: "DELETE", path, timeoutMs: timeouts.apiMs });
    } catch (err) {
      if (err instanceof CarrierError && err.status === 404) return;
      throw err;
    }
  }

  async function fetchRecordingMedia(account: CarrierAccount, recording: Pick<CarrierRecording, "recordingUrl">): Promise<RecordingMedia> {
    const operation: CarrierOperation = "fetch recording media";
    const url = parseUrl(recording.recordingUrl);
    if (!url) throw new CarrierUnreachable(operation, "media url refused: malformed");
    const own = url.origin === apiOrigin;
    if (!own) {
      const broken = urlRuleBroken(url, options.allowPrivateMedia);
      if (broken) throw new CarrierUnreachable(operation, `media url refused: ${broken === "scheme" ? "not https" : broken}`);
    }
    const headers: Record<string, string> = { Accept: "*/*", "User-Agent": USER_AGENT, ...(own ? credentials(account) : {}) };
    const deadline = performance.now() + timeouts.mediaHeadersMs;
    const { res } = await open({ operation, method: "GET", url, headers, deadline, idempotent: true, ...(own ? toApi : toMediaHost) });
    const status = res.statusCode ?? 0;
    if (status < 200 || status > 299) {
      const read = await readBody(res, MAX_ERROR_BODY_BYTES, performance.now() + timeouts.apiMs);
      const reason = status >= 300 && status < 400 ? "redirect not followed" : carrierReason(read.bytes, status, [account.authToken]);
      throw new CarrierError(operation, status, reason);
    }
    const length = Number(res.headers["content-length"]);
    const { body, cancel } = streamBody(res, { operation, idleMs: timeouts.mediaIdleMs, maxBytes: MAX_MEDIA_BYTES });
    return {
      contentType: res.headers["content-type"] ?? "application/octet-stream",
      contentLength: Number.isSafeInteger(length) && length >= 0 ? length : null,
      body,
      cancel,
    };
  }

  return {
    async placeCall(account: CarrierAccount, request: PlaceCallRequest) {
      const json = {
        from: request.from,
        to: request.to,
        answer_url: request.answerUrl,
        answer_method: request.answerMethod,
        hangup_url: request.hangupUrl,
        hangup_method: request.hangupMethod,
        time_limit: request.timeLimitSeconds,
        ring_timeout: request.ringTimeoutSeconds,
      };
      const answer = await api({ operation: "place call", account, method: "POST", path: "Call/", json, timeoutMs: timeouts.placeCallMs });
      // A 2xx means the carrier accepted it: without the uuid we cannot follow the call, but it may ring all the same.
      const placed = placedCallFrom(answer);
      if (!placed) throw new CarrierOutcomeUnknown("place call", "accepted without a request_uuid");
      return placed;
    },

    hangUpCall: async (account, callUuid) => remove("hang up call", account, `Call/${segment("callUuid", callUuid)}/`),

    async listRecordings(account: CarrierAccount, query: RecordingQuery = {}) {
      const search = new URLSearchParams();
      if (query.limit !== undefined) search.set("limit", String(count("limit", query.limit, 1)));
      if (query.offset !== undefined) search.set("offset", String(count("offset", query.offset, 0)));
      if (query.callUuid !== undefined) search.set("call_uuid", query.callUuid);
      const answer = await api({ operation: "list recordings", account, method: "GET", path: "Recording/", query: search, timeoutMs: timeouts.apiMs });
      const recordings = recordingsFrom(answer);
      if (!recordings) throw new CarrierOutcomeUnknown("list recordings", "malformed answer");
      return recordings;
    },

    async getRecording(account: CarrierAccount, recordingId: string) {
      const path = `Recording/${segment("recordingId", recordingId)}/`;
      const recording = recordingFrom(await api({ operation: "get recording", account, method: "GET", path, timeoutMs: timeouts.apiMs }));
      if (!recording) throw new CarrierOutcomeUnknown("get recording", "malformed answer");
      return recording;
    },

    deleteRecording: async (account, recordingId) => remove("delete recording", account, `Recording/${segment("recordingId", recordingId)}/`),

    fetchRecordingMedia,

    close() {
      for (const agents of [apiAgents, mediaAgents]) for (const agent of Object.values(agents)) agent.destroy();
    },
  };
}

function credentials(account: CarrierAccount): Record<string, string> {
  return { "X-Auth-ID": account.authId, "X-Auth-Token": account.authToken };
}

/** The configured base without its trailing slash; a base that is not plain http(s) is a configuration bug. */
function apiBase(raw: string): string {
  const url = parseUrl(raw);
  if (!url || (url.protocol !== "https:" && url.protocol !== "http:") || url.username || url.password || url.search || url.hash) {
    throw new TypeError("VOBIZ_API_BASE_URL must be a plain http(s) URL without credentials, query or fragment");
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

/**
 * An id as one path segment. An empty one is refused: `Call//` would get a 404, which hangUpCall and
 * deleteRecording take for "already gone", and a bug would pass for success.
 */
function segment(name: string, value: string): string {
  if (value === "") throw new RangeError(`${name} must not be empty`);
  return encodeURIComponent(value);
}

function count(name: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) throw new RangeError(`${name} must be an integer of at least ${min}`);
  return value;
}
