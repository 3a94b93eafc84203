/**
 * The answer path: whom to connect, decided in one indexed lookup and recorded durably before the reply.
 *
 * Everything here runs under a Deadline: Vobiz wants XML within 1–2 s and drops the call on silence, so a slow or
 * unreachable database turns into the polite "unavailable" reply well inside that. The caller (routes/vobiz.ts)
 * turns any error thrown from here into that reply.
 */
import type { Logger } from "pino";
import type { Deps } from "../deps.js";
import { newId } from "../crypto/ids.js";
import { normalizeForLookup } from "../phone/numbers.js";
import { flowUrls, webhookUrls } from "../domain/webhook-urls.js";
import { decideCall, type ActiveRoute, type CallSettings, type EndedRoute, type PinDid } from "../domain/call-decision.js";
import { effectiveSettings } from "../domain/tenant-settings.js";
import { findPinDid } from "../stores/pin-routes.js";
import { answerArrived } from "../domain/call-flow.js";
import { messageFor, type AppMessages } from "../domain/messages.js";
import { callStatusOf, callUuidOf, directionOf, type CarrierFields } from "../domain/carrier-fields.js";
import { callActionXml } from "../vobiz/xml.js";
import type { Deadline } from "../time/deadline.js";
import type { AppRow } from "../stores/apps.js";
import * as calls from "../stores/calls.js";
import * as routing from "../stores/routing.js";

/** Total time the answer path may spend waiting on the database and kv: a reply well inside 1 s. */
export const ANSWER_BUDGET_MS = 700;
/** Callbacks (hangup, dial-status) may take up to 3 s by Vobiz's rules; stay well inside that. */
export const CALLBACK_BUDGET_MS = 2_000;

type AnswerDeps = Pick<Deps, "db" | "keys" | "clock" | "config" | "callLog" | "metrics">;

/** What the lookup found: the reply stored for this CallUUID, or else the routes the decision needs. */
interface Found {
  earlierReply: string | null;
  active: ActiveRoute | null;
  ended: EndedRoute | null;
  /** The DID carries PIN sessions (asked only when the caller has no pairing on it). */
  pinDid: PinDid | null;
}

function activeRouteOf(deps: AnswerDeps, row: routing.AnswerLookupRow): ActiveRoute | null {
  if (row.session_id === null) return null;
  return {
    sessionId: row.session_id,
    sessionStatus: row.session_status!,
    sessionMode: row.session_mode!,
    expiresAt: new Date(row.expires_at!),
    callerParticipantId: row.caller_participant_id!,
    callerPosition: Number(row.caller_position),
    otherParticipantId: row.other_participant_id!,
    otherNumber: deps.keys.decrypt(row.other_number_enc!),
    otherDid: row.other_did!,
    recording: row.session_recording === true,
  };
}

async function endedRouteOf(deps: AnswerDeps, key: routing.RouteKey, deadline: Deadline): Promise<EndedRoute | null> {
  const last = await deadline.run(routing.findEndedRoute(deps.db, key));
  if (!last) return null;
  return {
    sessionId: last.session_id,
    sessionStatus: last.session_status,
    expiresAt: new Date(last.expires_at),
    callerParticipantId: last.caller_participant_id,
  };
}

/**
 * One round trip in the common case: the route for (caller, DID) and this CallUUID's stored reply together. The
 * caller's ended pairing is read only when there is neither. Numbers that do not parse route nowhere, so then only
 * the stored reply is looked up. The replay check runs beside the lookup and must pass before anything is used.
 */
async function lookUpCall(
  deps: AnswerDeps,
  app: AppRow,
  callUuid: string,
  numbers: { from: string | null; to: string | null },
  deadline: Deadline,
  authenticated: Promise<void>,
): Promise<Found> {
  const { from, to } = numbers;
  if (from === null || to === null) {
    const [found] = await Promise.all([
      deadline.run(calls.findCallReplies(deps.db, [{ tenant_id: app.tenant_id, call_uuid: callUuid }])),
      authenticated,
    ]);
    return { earlierReply: found.get(`${app.tenant_id} ${callUuid}`) ?? null, active: null, ended: null, pinDid: null };
  }
  const key: routing.RouteKey = { tenantId: app.tenant_id, appId: app.id, did: to, callerBidx: deps.keys.blindIndex(from) };
  const [row] = await Promise.all([deadline.run(routing.findAnswerRoute(deps.db, key, callUuid)), authenticated]);
  if (row.earlier_reply_enc !== null) return { earlierReply: row.earlier_reply_enc, active: null, ended: null, pinDid: null };
  const active = activeRouteOf(deps, row) ?? (await routeUnderPreviousKeys(deps, key, from, callUuid, deadline));
  if (active) return { earlierReply: null, active, ended: null, pinDid: null };
  // Off the common path: a caller with no pairing on the DID. Is it a PIN DID, and did they have a session here?
  const [ended, pin] = await Promise.all([endedRouteOf(deps, key, deadline), deadline.run(findPinDid(deps.db, key))]);
  return { earlierReply: null, active: null, ended, pinDid: pin ? { numDigits: effectiveSettings(pin.settings).pinLength } : null };
}

/**
 * While a key rotation re-indexes in the background (jobs/rekey.ts), a pairing may still be under a previous key's
 * blind index: a miss under the current one tries those. Only misses pay for it, and only during a rotation.
 */
async function routeUnderPreviousKeys(
  deps: AnswerDeps,
  key: routing.RouteKey,
  from: string,
  callUuid: string,
  deadline: Deadline,
): Promise<ActiveRoute | null> {
  for (const callerBidx of deps.keys.blindIndexes(from).slice(1)) {
    const row = await deadline.run(routing.findAnswerRoute(deps.db, { ...key, callerBidx }, callUuid));
    const active = activeRouteOf(deps, row);
    if (active) return active;
  }
  return null;
}

/** What the call decisions need of an app: its limits, its words and the URLs the carrier is sent to. */
export function callSettingsOf(deps: Pick<Deps, "config">, app: AppRow): CallSettings {
  const flows = flowUrls(deps.config.publicBaseUrl, app.id, app.url_secret);
  return {
    ringTimeoutSeconds: app.ring_timeout_seconds,
    maxCallSeconds: app.max_call_seconds,
    messages: app.messages as AppMessages,
    dialStatusUrl: webhookUrls(deps.config.publicBaseUrl, app.id, app.url_secret).dialStatusUrl,
    recordingUrl: flows.recordingUrl,
    pinUrl: flows.pinUrl(1),
  };
}

/**
 * A new inbound call (end-of-call notices go to call-events). Idempotent on CallUUID through its call row: the
 * first request's reply is stored (encrypted: a bridge names a real number) and every later request for the same
 * call, concurrent or not, on any replica, before or after a Redis flush, gets those exact bytes and writes nothing.
 */
export async function answerCall(
  deps: AnswerDeps,
  app: AppRow,
  fields: CarrierFields,
  deadline: Deadline,
  log: Logger,
  /** The replay check, run alongside the lookup; it must pass before anything is recorded or answered. */
  authenticated: Promise<void> = Promise.resolve(),
): Promise<string> {
  const callUuid = callUuidOf(fields);
  if (callUuid === null) {
    // Not something the carrier sends; without a CallUUID nothing can be recorded or retried safely.
    await authenticated;
    log.warn({ appId: app.id }, "answer request without a CallUUID: refused");
    return callActionXml({ kind: "refuse", message: messageFor(app.messages as AppMessages, "notInService") });
  }
  const from = normalizeForLookup(fields.From ?? "", app.default_country);
  const to = normalizeForLookup(fields.To ?? "", app.default_country);

  const found = await lookUpCall(deps, app, callUuid, { from, to }, deadline, authenticated);
  if (found.earlierReply !== null) {
    log.info({ appId: app.id, callUuid }, "answer replayed for a known CallUUID");
    return deps.keys.decrypt(found.earlierReply);
  }

  const now = deps.clock.now();
  const outcome = decideCall({ from, to, active: found.active, ended: found.ended, pinDid: found.pinDid, now, app: callSettingsOf(deps, app) });
  const answered = answerArrived({ type: "answer", outcome, status: callStatusOf(fields.CallStatus, "ringing") });
  const xml = callActionXml(answered.reply);

  const row: calls.NewCallRow & { reply_enc: string } = {
    id: newId("call"),
    tenant_id: app.tenant_id,
    app_id: app.id,
    call_uuid: callUuid,
    direction: directionOf(fields.Direction),
    session_id: outcome.sessionId,
    // The dialled masking DID (not personal data); null when To was not a number at all.
    proxy_number: to,
    from_participant_id: outcome.fromParticipantId,
    to_participant_id: outcome.toParticipantId,
    decision: outcome.decision,
    status: answered.state.status,
    reply_enc: deps.keys.encrypt(xml), // it can name a real number
    started_at: now,
  };
  // Committed before the reply leaves: the carrier's hangup notice (and any retry) finds the decision recorded.
  const earlier = await deadline.run(deps.callLog.record(row));
  if (earlier !== null) {
    log.info({ appId: app.id, callUuid }, "answer replayed for a CallUUID decided concurrently");
    return deps.keys.decrypt(earlier);
  }
  deps.metrics.callDecisions.inc({ decision: outcome.decision, flow: "answer" });
  log.info({ appId: app.id, callUuid, callId: row.id, sessionId: outcome.sessionId, decision: outcome.decision }, "call answered");
  return xml;
}
