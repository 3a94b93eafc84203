/**
 * A PIN call's digits (docs/call-flows.md, "PIN sessions"): the `<Gather action>` of the prompt the answer path
 * sent to a caller with no pairing on a DID that carries PIN sessions.
 *
 * One transaction per attempt, and every attempt happens once: the step `pin:<attempt>` is claimed first (a retried
 * callback waits for it and gets its stored reply), then the caller's lockout row on the DID is locked, so attempts
 * by one caller on one DID, from any replica, are judged one after another and counted exactly. A PIN bridges only
 * when it names a live session on this DID in which the caller's own number is the PIN's owner; a wrong PIN counts
 * towards the caller's lockout, a right one clears it. The digits are never stored or logged.
 */
import type { Logger } from "pino";
import type { Knex } from "knex";
import type { Deps } from "../deps.js";
import { normalizeForLookup } from "../phone/numbers.js";
import { bridgeTo, refusal, type CallOutcome } from "../domain/call-decision.js";
import { messageFor, type AppMessages } from "../domain/messages.js";
import { afterFailedAttempt, afterWrongPin, isLockedOut, readPinDigits, type LockoutState, type PinVerdict } from "../domain/pin.js";
import { sessionStatusAt } from "../domain/session-state.js";
import { effectiveSettings } from "../domain/tenant-settings.js";
import { flowUrls } from "../domain/webhook-urls.js";
import { callUuidOf, type CarrierFields } from "../domain/carrier-fields.js";
import { callActionXml } from "../vobiz/xml.js";
import type { Deadline } from "../time/deadline.js";
import type { AppRow } from "../stores/apps.js";
import * as steps from "../stores/call-steps.js";
import * as pins from "../stores/pin-routes.js";
import { callSettingsOf } from "./answer.js";
import { toCall } from "./call-shape.js";
import { newEventRow, recordEvents } from "./events.js";
import { pinHashes } from "./pin-sessions.js";

type PinDeps = Pick<Deps, "db" | "keys" | "clock" | "config" | "metrics">;

/** What one attempt decided, and the caller's lockout state afterwards. */
interface Judged {
  verdict: PinVerdict;
  lockout: LockoutState;
  route: pins.PinRouteRow | undefined;
}

/** Judges the digits against the PIN rows of the DID, under the caller's locked lockout row. */
async function judge(
  deps: PinDeps,
  trx: Knex.Transaction,
  key: pins.LockoutKey & { callerBidxes: readonly string[] },
  digits: string | null,
  attempt: number,
  now: Date,
): Promise<Judged> {
  const row = await pins.lockPinCaller(trx, key, now);
  const before: LockoutState = { failures: row.failures, lockedUntil: row.locked_until };
  // A locked-out caller's digits are not even looked at: the lockout is what stops guessing.
  if (isLockedOut(before, now)) return { verdict: { kind: "refuse", decision: "rejected_pin_locked" }, lockout: before, route: undefined };
  // No input is another prompt, not a wrong PIN: a caller who did not hear the prompt is not a guesser.
  if (digits === null) return { verdict: afterFailedAttempt(attempt, false), lockout: before, route: undefined };

  const hashes = pinHashes(deps.keys, key.numberId, digits);
  const route = await pins.findPinRoute(trx, key.tenantId, key.numberId, hashes);
  if (!route || route.owner_bidx === null || !key.callerBidxes.includes(route.owner_bidx)) {
    const after = afterWrongPin(before, now);
    return { verdict: afterFailedAttempt(attempt, isLockedOut(after, now)), lockout: after, route: undefined };
  }
  const cleared: LockoutState = { failures: [], lockedUntil: null };
  if (route.owner_pin_hash !== hashes[0]) await pins.rehashPin(trx, key.tenantId, route.owner_participant_id, hashes[0]!, deps.keys.keyId);
  const status = sessionStatusAt({ status: route.session_status, expires_at: new Date(route.expires_at) }, now);
  if (status === "closed") return { verdict: { kind: "ended", decision: "rejected_session_closed" }, lockout: cleared, route };
  if (status === "expired") return { verdict: { kind: "ended", decision: "rejected_session_expired" }, lockout: cleared, route };
  if (route.session_mode === "one_way" && Number(route.owner_position) !== 0) {
    return { verdict: { kind: "ended", decision: "rejected_one_way" }, lockout: cleared, route };
  }
  return { verdict: { kind: "bridge" }, lockout: cleared, route };
}

/** The outcome a verdict comes to: the bridge, another prompt, or the polite end. */
function outcomeOf(deps: PinDeps, app: AppRow, judged: Judged, attempt: number, numDigits: number): CallOutcome {
  const settings = callSettingsOf(deps, app);
  const messages = app.messages as AppMessages;
  const { verdict, route } = judged;
  if (verdict.kind === "retry") {
    const actionUrl = flowUrls(deps.config.publicBaseUrl, app.id, app.url_secret).pinUrl(attempt + 1);
    const prompt = messageFor(messages, "pinPrompt");
    const action = { kind: "gather" as const, preface: messageFor(messages, "pinRetry"), prompt, actionUrl, numDigits };
    return { decision: "pending", action, sessionId: null, fromParticipantId: null, toParticipantId: null };
  }
  if (verdict.kind === "refuse") return refusal(verdict.decision, messages);
  const session = { sessionId: route!.session_id, callerParticipantId: route!.owner_participant_id };
  if (verdict.kind === "ended") return refusal(verdict.decision, messages, session);
  return {
    decision: "bridged",
    // One DID for both: the other participant sees the number they themselves dial.
    action: bridgeTo({ number: deps.keys.decrypt(route!.other_number_enc), callerId: route!.did, recording: route!.session_recording }, settings),
    ...session,
    fromParticipantId: route!.owner_participant_id,
    toParticipantId: route!.other_participant_id,
  };
}

/** The reply to a PIN call's `attempt`th digits. Errors are the route's to turn into the polite "unavailable". */
export async function answerPinDigits(
  deps: PinDeps,
  app: AppRow,
  fields: CarrierFields,
  attempt: number,
  deadline: Deadline,
  log: Logger,
): Promise<string> {
  const messages = app.messages as AppMessages;
  const callUuid = callUuidOf(fields);
  const from = normalizeForLookup(fields.From ?? "", app.default_country);
  const to = normalizeForLookup(fields.To ?? "", app.default_country);
  if (!callUuid || !from || !to) return callActionXml(refusal("rejected_invalid_number", messages).action);

  return deadline.run(
    deps.db.transaction(async (trx) => {
      const now = deps.clock.now();
      const call = await steps.lockCallOfApp(trx, app.tenant_id, app.id, { callUuid });
      // Digits for a call this app never prompted: nothing to judge them against.
      if (!call) return callActionXml(refusal("rejected_unknown_caller", messages).action);
      const step = `pin:${attempt}`;
      const claim = await steps.claimCallStep(trx, app.tenant_id, call.id, step, now);
      if (!claim.claimed) {
        log.info({ appId: app.id, callUuid, attempt }, "PIN attempt retried by the carrier: stored reply");
        return claim.replyEnc ? deps.keys.decrypt(claim.replyEnc) : callActionXml(refusal("rejected_unknown_caller", messages).action);
      }
      const did = await pins.findDidOfApp(trx, { tenantId: app.tenant_id, appId: app.id, did: to });
      if (!did || call.decision !== "pending") {
        // Not a PIN call of ours any more (the DID was released, or the call already decided): end it politely.
        const xml = callActionXml(refusal("rejected_unknown_caller", messages).action);
        await steps.completeCallStep(trx, app.tenant_id, call.id, step, deps.keys.encrypt(xml));
        return xml;
      }
      // The lockout is kept under the current key; the caller's own rows may still be under a previous one.
      const callerBidxes = deps.keys.blindIndexes(from);
      const key = { tenantId: app.tenant_id, numberId: did.number_id, callerBidx: callerBidxes[0]!, callerBidxes };
      const judged = await judge(deps, trx, key, readPinDigits(fields.Digits), attempt, now);
      await pins.savePinLockout(trx, key, { failures: judged.lockout.failures, locked_until: judged.lockout.lockedUntil }, now);

      const outcome = outcomeOf(deps, app, judged, attempt, effectiveSettings(did.settings).pinLength);
      const xml = callActionXml(outcome.action);
      if (outcome.decision !== "pending") {
        const decided = await steps.updateCallDecision(trx, app.tenant_id, call.id, {
          decision: outcome.decision,
          session_id: outcome.sessionId,
          from_participant_id: outcome.fromParticipantId,
          to_participant_id: outcome.toParticipantId,
        });
        // The decision is known now: the call says call.started, once (this step happens once).
        await recordEvents(trx, [newEventRow(app.tenant_id, "call.started", toCall(decided), now)]);
      }
      await steps.completeCallStep(trx, app.tenant_id, call.id, step, deps.keys.encrypt(xml));
      deps.metrics.callDecisions.inc({ decision: outcome.decision, flow: "pin" });
      log.info({ appId: app.id, callUuid, callId: call.id, attempt, decision: outcome.decision, sessionId: outcome.sessionId }, "PIN attempt judged");
      return xml;
    }),
  );
}
