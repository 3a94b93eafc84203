/**
 * Click-to-call (docs/call-flows.md, "Click-to-call"): Maskline asks the carrier to ring one participant, showing
 * them their own masking number; when they answer, the carrier fetches this call's own answer URL and Maskline
 * bridges the other participant, who sees *their* own masking number.
 *
 * The call row (outbound, `initiated`, decision pending) and the request's idempotent result commit before the
 * carrier is asked, so a crash or a retry never places a call twice. The carrier's answer then settles it: fired
 * (still `initiated`, as the contract answers it, with its CallUUID recorded: nothing tells us yet that it rings;
 * its answer and hangup callbacks move it on), refused (`failed`, and `502 carrier_error`), or no answer in time
 * (`unknown`, never retried: the call may be ringing, and its callbacks will say). The call's URLs carry its id
 * (signed with the URL) and a secret of its own, so its callbacks find it even when its CallUUID never reached us.
 */
import type { Logger } from "pino";
import type { Deps } from "../deps.js";
import { AppError, notFound, validationFailed } from "../errors.js";
import { newId } from "../crypto/ids.js";
import { constantTimeEqual, generateToken } from "../crypto/tokens.js";
import { bridgeTo, refusal, type CallOutcome } from "../domain/call-decision.js";
import type { AppMessages } from "../domain/messages.js";
import { sessionStatusAt } from "../domain/session-state.js";
import { placedCallUrls } from "../domain/webhook-urls.js";
import { callUuidOf, type CarrierFields } from "../domain/carrier-fields.js";
import { callActionXml } from "../vobiz/xml.js";
import type { Deadline } from "../time/deadline.js";
import type { AppRow } from "../stores/apps.js";
import type { CallRow } from "../stores/calls.js";
import * as sessions from "../stores/sessions.js";
import * as placed from "../stores/placed-calls.js";
import * as steps from "../stores/call-steps.js";
import { CarrierError, CarrierOutcomeUnknown, CarrierUnreachable } from "../carrier/carrier.js";
import { callSettingsOf } from "./answer.js";
import { toCall } from "./call-shape.js";
import { carrierFailure } from "./carrier-errors.js";
import { admitPlacedCall } from "./call-rate.js";
import { newEventRow, recordEvents } from "./events.js";
import type { SettlingResult } from "./idempotency.js";
import type { Schemas } from "./shapes.js";

type Call = Schemas["Call"];
const CALL_SECRET_BYTES = 24;
/** `call_` and a ULID (crypto/ids.ts). */
const CALL_ID = /^call_[0-9A-HJKMNP-TV-Z]{26}$/;

type PlaceDeps = Pick<Deps, "db" | "keys" | "clock" | "config" | "kv" | "logger" | "appCache" | "carrier">;

/** Who is rung first and who is bridged, from a live session in which the first may call. */
async function partiesOf(deps: PlaceDeps, tenantId: string, sessionId: string, participantId: string) {
  const session = await sessions.findSession(deps.db, tenantId, sessionId);
  if (!session) throw notFound("Session");
  const parties = await placed.sessionParticipants(deps.db, tenantId, sessionId);
  const first = parties.find((p) => p.id === participantId);
  const other = parties.find((p) => p.id !== participantId);
  if (!first || !other) {
    throw validationFailed([{ path: "/body/participantId", message: "is not a participant of this session" }]);
  }
  const status = sessionStatusAt(session, deps.clock.now());
  if (status !== "open" || !first.active || !other.active) {
    throw new AppError("conflict", `The session is ${status === "open" ? "ended" : status}; it can no longer connect calls.`);
  }
  if (session.mode === "one_way" && Number(first.position) !== 0) {
    throw new AppError("conflict", "In a one-way session only participants[0] can call; ring that participant instead.");
  }
  return { session, first, other };
}

/** Places the call; see the module comment for how each of the carrier's answers settles it. */
export async function placeSessionCall(
  deps: PlaceDeps,
  tenantId: string,
  sessionId: string,
  input: Schemas["PlaceCallRequest"],
  result?: SettlingResult<Call>,
): Promise<Call> {
  const { session, first, other } = await partiesOf(deps, tenantId, sessionId, input.participantId);
  const cached = await deps.appCache.get(session.app_id);
  if (!cached || cached.row.tenant_id !== tenantId) throw notFound("App");
  const app = cached.row;
  await admitPlacedCall(deps, tenantId);

  const callSecret = generateToken(CALL_SECRET_BYTES);
  const row = await deps.db.transaction(async (trx) => {
    const inserted = await placed.insertPlacedCall(trx, {
      id: newId("call"),
      tenant_id: tenantId,
      app_id: app.id,
      session_id: session.id,
      proxy_number: first.proxy_e164,
      from_participant_id: first.id,
      to_participant_id: other.id,
      started_at: deps.clock.now(),
      call_secret_hash: deps.keys.blindIndex(callSecret),
    });
    await result?.store(trx, toCall(inserted));
    return inserted;
  });

  const urls = placedCallUrls(deps.config.publicBaseUrl, app.id, app.url_secret, row.id, callSecret);
  const log = deps.logger.child({ tenantId, callId: row.id, sessionId });
  try {
    const fired = await deps.carrier.placeCall(
      { authId: app.vobiz_auth_id, authToken: cached.authToken },
      {
        from: first.proxy_e164,
        to: deps.keys.decrypt(first.number_enc),
        answerUrl: urls.answerUrl,
        answerMethod: "POST",
        hangupUrl: urls.hangupUrl,
        hangupMethod: "POST",
        timeLimitSeconds: app.max_call_seconds,
        ringTimeoutSeconds: app.ring_timeout_seconds,
      },
    );
    log.info("call placed at the carrier");
    return await settle(deps, row, { callUuid: fired.requestUuid, status: "initiated" }, result);
  } catch (err) {
    if (err instanceof CarrierOutcomeUnknown) {
      // It may be ringing: recorded as unknown, and never placed again (the stored result says so to a retry).
      log.warn({ why: err.why }, "no answer from the carrier to placing a call: its outcome is unknown");
      return settle(deps, row, { callUuid: null, status: "unknown" }, result);
    }
    if (err instanceof CarrierError || err instanceof CarrierUnreachable) {
      const cause = err instanceof CarrierError ? `carrier refused: ${err.status}` : "carrier unreachable";
      await placed.settlePlacedCall(deps.db, tenantId, row.id, { callUuid: null, status: "failed", endedAt: deps.clock.now(), hangupCause: cause });
      // Nothing was placed: a retry with the same Idempotency-Key may try again.
      await result?.withdraw();
      log.warn({ cause }, "the carrier did not place the call");
    }
    // The carrier's reason is its own words with any quoted number masked (carrier/vobiz-rest-json.ts).
    throw carrierFailure(err, "The carrier did not place the call");
  }
}

async function settle(
  deps: Pick<Deps, "db">,
  row: CallRow,
  settled: { callUuid: string | null; status: "initiated" | "unknown" },
  result?: SettlingResult<Call>,
): Promise<Call> {
  return deps.db.transaction(async (trx) => {
    const call = toCall(await placed.settlePlacedCall(trx, row.tenant_id, row.id, settled));
    await result?.replace(trx, call);
    return call;
  });
}

/**
 * A placed call's callbacks name it in their path and carry its secret `t`: anything else is the same refusal as
 * a bad signature. Returns the call's id once verified.
 */
export async function verifyPlacedCall(
  deps: Pick<Deps, "db" | "keys">,
  app: AppRow,
  callId: string,
  secret: string | undefined,
  log: Logger,
): Promise<CallRow> {
  // What our call ids look like: anything else cannot name a call of ours, and never reaches Postgres.
  const call = CALL_ID.test(callId) ? await steps.findCallOfApp(deps.db, app.tenant_id, app.id, callId) : undefined;
  if (!call || call.direction !== "outbound" || call.call_secret_hash === null || typeof secret !== "string" ||
      !constantTimeEqual(deps.keys.blindIndex(secret), call.call_secret_hash)) {
    log.warn({ appId: app.id, callId }, "placed-call callback refused: unknown call or wrong call secret");
    throw new AppError("forbidden", "The request is not signed by this app's carrier account, or its URL secret is wrong.");
  }
  return call;
}

/**
 * The first participant answered: bridge the other one (who sees their own masking number), recorded after the
 * notice when the session records, or end politely if the session ended while it rang. Happens once per call.
 */
export async function answerPlacedCall(
  deps: Pick<Deps, "db" | "keys" | "clock" | "config" | "metrics">,
  app: AppRow,
  call: CallRow,
  fields: CarrierFields,
  deadline: Deadline,
  log: Logger,
): Promise<string> {
  const messages = app.messages as AppMessages;
  return deadline.run(
    deps.db.transaction(async (trx) => {
      const now = deps.clock.now();
      const locked = (await steps.lockCallOfApp(trx, app.tenant_id, app.id, { id: call.id }))!;
      const claim = await steps.claimCallStep(trx, app.tenant_id, locked.id, "answer", now);
      if (!claim.claimed) {
        log.info({ appId: app.id, callId: locked.id }, "placed call's answer retried by the carrier: stored reply");
        return claim.replyEnc ? deps.keys.decrypt(claim.replyEnc) : callActionXml(refusal("rejected_session_closed", messages).action);
      }
      const target = await placed.findPlacedCallTarget(trx, app.tenant_id, locked.session_id!, locked.to_participant_id!);
      const status = target ? sessionStatusAt(target.session, now) : "closed";
      const session = { sessionId: locked.session_id!, callerParticipantId: locked.from_participant_id! };
      let outcome: CallOutcome;
      if (!target || status === "closed" || (status === "open" && !target.other_active)) outcome = refusal("rejected_session_closed", messages, session);
      else if (status === "expired") outcome = refusal("rejected_session_expired", messages, session);
      else {
        const action = bridgeTo(
          { number: deps.keys.decrypt(target.other_number_enc), callerId: target.other_did, recording: target.session.recording },
          callSettingsOf(deps, app),
        );
        outcome = { decision: "bridged", action, ...session, fromParticipantId: locked.from_participant_id, toParticipantId: locked.to_participant_id };
      }
      const xml = callActionXml(outcome.action);
      const decided = await steps.updateCallDecision(trx, app.tenant_id, locked.id, {
        decision: outcome.decision,
        status: "in-progress",
        ...(locked.call_uuid === null && callUuidOf(fields) ? { call_uuid: callUuidOf(fields)! } : {}),
      });
      await recordEvents(trx, [newEventRow(app.tenant_id, "call.started", toCall(decided), now)]);
      await steps.completeCallStep(trx, app.tenant_id, locked.id, "answer", deps.keys.encrypt(xml));
      deps.metrics.callDecisions.inc({ decision: outcome.decision, flow: "placed" });
      log.info({ appId: app.id, callId: locked.id, decision: outcome.decision }, "placed call answered");
      return xml;
    }),
  );
}
