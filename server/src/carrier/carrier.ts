/**
 * The carrier port (`deps.carrier`): what Maskline asks of the carrier's REST API itself, as opposed to the webhooks
 * the carrier sends us. One implementation speaks Vobiz (carrier/vobiz-rest.ts, docs/carrier-protocol.md section 4);
 * tests run it against the simulator's REST side (test/sim/vobiz-rest-server.ts), never against a mock of this type.
 *
 * Every call names the tenant app's account. Its auth token is a secret: it is sent only as `X-Auth-Token` to the
 * configured API origin and never appears in a log line, an error message or a thrown error's fields.
 *
 * How a failure is reported decides what the caller may do next, so there are three kinds, never a bare Error:
 *   - CarrierError: the carrier answered and refused (4xx/5xx). Nothing happened; the reason is the carrier's.
 *   - CarrierUnreachable: no request reached the carrier (DNS, connection refused, TLS): nothing happened.
 *   - CarrierOutcomeUnknown: the request was sent but no answer came in time (a read timeout, a connection reset
 *     after sending). The call may or may not have been placed: record that, and never retry it blindly.
 */
export interface CarrierAccount {
  /** The Vobiz account (or sub-account) auth id: `X-Auth-ID`, and the `{auth_id}` in every path. */
  readonly authId: string;
  /** `X-Auth-Token`. Never logged. */
  readonly authToken: string;
}

export type CarrierMethod = "POST" | "GET";

/** `POST /Account/{auth_id}/Call/`: ring `to`, showing `from`; the carrier fetches `answerUrl` once it is answered. */
export interface PlaceCallRequest {
  /** The caller ID shown to `to`: a masking DID of the account, +E.164. */
  from: string;
  /** The number to ring, +E.164. */
  to: string;
  answerUrl: string;
  answerMethod: CarrierMethod;
  hangupUrl: string;
  hangupMethod: CarrierMethod;
  /** Longest the call may last once answered (`time_limit`). */
  timeLimitSeconds: number;
  /** How long `to` rings before the carrier gives up (`ring_timeout`). */
  ringTimeoutSeconds: number;
}

export interface PlacedCall {
  /** `request_uuid`: the A-leg's CallUUID in every callback about this call. */
  requestUuid: string;
  apiId: string | null;
  message: string | null;
}

/** A recording as the carrier describes it (`GET /Account/{auth_id}/Recording/{id}/`). */
export interface CarrierRecording {
  recordingId: string;
  callUuid: string | null;
  /** Where the audio is served; fetch it with fetchRecordingMedia, which decides whether credentials go with it. */
  recordingUrl: string;
  /** `mp3` or `wav`, when the carrier says. */
  format: string | null;
  durationMs: number | null;
  addedAt: Date | null;
}

export interface RecordingQuery {
  /** Only this call's recordings. */
  callUuid?: string;
  limit?: number;
  offset?: number;
}

/** The audio, streamed: read `body` to the end or call `cancel()`, or the connection stays open. */
export interface RecordingMedia {
  contentType: string;
  contentLength: number | null;
  body: AsyncIterable<Uint8Array>;
  cancel(): void;
}

export interface Carrier {
  placeCall(account: CarrierAccount, request: PlaceCallRequest): Promise<PlacedCall>;
  /** `DELETE /Account/{auth_id}/Call/{call_uuid}/`. A call the carrier no longer knows (404) counts as hung up. */
  hangUpCall(account: CarrierAccount, callUuid: string): Promise<void>;
  listRecordings(account: CarrierAccount, query?: RecordingQuery): Promise<CarrierRecording[]>;
  getRecording(account: CarrierAccount, recordingId: string): Promise<CarrierRecording>;
  /** `DELETE /Account/{auth_id}/Recording/{id}/`. One the carrier no longer has (404) counts as deleted. */
  deleteRecording(account: CarrierAccount, recordingId: string): Promise<void>;
  /**
   * The recording's audio. Credentials are sent only when its URL is on the API's own origin; any other URL is
   * fetched without them, and only if it is https on a public address (unless private addresses are allowed).
   */
  fetchRecordingMedia(account: CarrierAccount, recording: Pick<CarrierRecording, "recordingUrl">): Promise<RecordingMedia>;
}

export type CarrierOperation = "place call" | "hang up call" | "list recordings" | "get recording" | "delete recording" | "fetch recording media";

/** The carrier answered with a refusal: `status` is its HTTP status, `reason` its own words (bounded, scrubbed). */
export class CarrierError extends Error {
  override name = "CarrierError";
  constructor(
    readonly operation: CarrierOperation,
    readonly status: number,
    readonly reason: string,
  ) {
    super(`carrier refused to ${operation}: ${status} ${reason}`);
  }
}

/** No request reached the carrier: nothing was done there. */
export class CarrierUnreachable extends Error {
  override name = "CarrierUnreachable";
  constructor(
    readonly operation: CarrierOperation,
    readonly why: string,
  ) {
    super(`carrier unreachable to ${operation}: ${why}`);
  }
}

/** The request left, no answer came back in time: what the carrier did is unknown. */
export class CarrierOutcomeUnknown extends Error {
  override name = "CarrierOutcomeUnknown";
  constructor(
    readonly operation: CarrierOperation,
    readonly why: string,
  ) {
    super(`no answer from the carrier to ${operation}: ${why}`);
  }
}
