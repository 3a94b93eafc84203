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
import { webhookUrls } from "../domain/webhook-urls.js";
import { decideCall, type ActiveRoute, type AppMessages, type EndedRoute } from "../domain/call-decision.js";
import { callStatusOf, directionOf, type CarrierFields } from "../domain/carrier-fields.js";
import type { Deadline } from "../time/deadline.js";
import type { AppRow } from "../stores/apps.js";
import * as calls from "../stores/calls.js";
import * as routing from "../stores/routing.js";

/** Total time the answer path may spend waiting on the database and kv: a reply well inside 1 s. */
export const ANSWER_BUDGET_MS = 700;
/** Callbacks (hangup, dial-status) may take up to 3 s by Vobiz's rules; stay well inside that. */
export const CALLBACK_BUDGET_MS = 2_000;

type AnswerDeps = Pick<Deps, "db" | "keys" | "clock" | "config" | "callLog">;

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
 * A new inbound call (end-of-call notices go to call-events). Idempotent on CallUUID through its call row: the
 * first request's reply is stored (encrypted: a bridge names a real number) and every later request for the same
 * call, concurrent or not, on any replica, before or after a Redis flush, gets those exact bytes and writes nothing.
 *
 * `fields.CallUUID` is present and valid (the route checked it at the edge).
 */
export async function answerCall(
  deps: AnswerDeps,
  app: AppRow,
  fields: CarrierFields & { CallUUID: string },
  deadline: Deadline,
  log: Logger,
  /** The replay check, run alongside the lookup; it must pass before anything is recorded or answered. */
  authenticated: Promise<void> = Promise.resolve(),
): Promise<string> {
  const callUuid = fields.CallUUID;
  const from = normalizeForLookup(fields.From ?? "", app.default_country);
  const to = normalizeForLookup(fields.To ?? "", app.default_country);

  let active: ActiveRoute | null = null;
  let ended: EndedRoute | null = null;
  let earlierReply: string | null;
  if (from !== null && to !== null) {
    const key: routing.RouteKey = { tenantId: app.tenant_id, appId: app.id, did: to, callerBidx: deps.keys.blindIndex(from) };
    const [row] = await Promise.all([deadline.run(routing.findAnswerRoute(deps.db, key, callUuid)), authenticated]);
    earlierReply = row.earlier_reply_enc;
    if (earlierReply === null) {
      active = activeRouteOf(deps, row);
      if (!active) ended = await endedRouteOf(deps, key, deadline);
    }
  } else {
    const [found] = await Promise.all([
      deadline.run(calls.findCallReplies(deps.db, [{ tenant_id: app.tenant_id, call_uuid: callUuid }])),
      authenticated,
    ]);
    earlierReply = found.get(`${app.tenant_id} ${callUuid}`) ?? null;
  }
  if (earlierReply !== null) {
    log.info({ appId: app.id, callUuid }, "answer replayed for a known CallUUID");
    return deps.keys.decrypt(earlierReply);
  }

  const now = deps.clock.now();
  const outcome = decideCall({
    from,
    to,
    active,
    ended,
    now,
    app: {
      ringTimeoutSeconds: app.ring_timeout_seconds,
      maxCallSeconds: app.max_call_seconds,
      messages: app.messages as AppMessages,
      dialStatusUrl: webhookUrls(deps.config.publicBaseUrl, app.id, app.url_secret).dialStatusUrl,
    },
  });

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
    status: callStatusOf(fields.CallStatus, "ringing"),
    reply_enc: deps.keys.encrypt(outcome.xml), // it can name a real number
    started_at: now,
  };
  // Committed before the reply leaves: the carrier's hangup notice (and any retry) finds the decision recorded.
  const earlier = await deadline.run(deps.callLog.record(row));
  if (earlier !== null) {
    log.info({ appId: app.id, callUuid }, "answer replayed for a CallUUID decided concurrently");
    return deps.keys.decrypt(earlier);
  }
  log.info({ appId: app.id, callUuid, callId: row.id, sessionId: outcome.sessionId, decision: outcome.decision }, "call answered");
  return outcome.xml;
}
