/**
 * The carrier callbacks of the call flows beyond the first answer (docs/call-flows.md): a PIN call's digits, a
 * recording's callback, and the answer and hangup of a call Maskline placed. Authenticated like every callback
 * (http/carrier/authenticate.ts); a placed call's also by its own secret. Like routes/vobiz.ts they answer in the
 * carrier's terms: the next XML for a caller who is waiting (the polite "unavailable" if we cannot decide), and
 * `503` with Retry-After for a notice we could not record, so the carrier sends it again.
 */
import type Router from "@koa/router";
import type { Deps } from "../deps.js";
import { AppError, validationFailed } from "../errors.js";
import type { AppContext, RequestState } from "../http/context.js";
import { rawRoute } from "../http/route.js";
import { authenticateCarrier } from "../http/carrier/authenticate.js";
import { emptyXml, unavailableReply } from "../vobiz/xml.js";
import type { AppMessages } from "../domain/messages.js";
import { readCarrierFields, type CarrierFields } from "../domain/carrier-fields.js";
import { PIN_ATTEMPTS_PER_CALL } from "../domain/pin.js";
import { startDeadline } from "../time/deadline.js";
import { countUnavailable } from "../http/carrier/unavailable.js";
import { ANSWER_BUDGET_MS, CALLBACK_BUDGET_MS } from "../services/answer.js";
import { recordHangup } from "../services/call-events.js";
import { answerPinDigits } from "../services/pin-calls.js";
import { answerPlacedCall, verifyPlacedCall } from "../services/placed-calls.js";
import { recordRecording } from "../services/recordings.js";
import type { AppRecord } from "../services/caches.js";

function carrierFields(ctx: AppContext): CarrierFields {
  const source: unknown = ctx.method === "GET" ? ctx.query : (ctx.request as { body?: unknown }).body;
  const { fields, problems } = readCarrierFields(source);
  if (problems.length > 0) {
    throw validationFailed(
      problems.map((p) => ({ path: `/${ctx.method === "GET" ? "query" : "body"}/${p.field}`, message: p.message })),
      "A carrier field holds what no carrier sends; nothing was recorded.",
    );
  }
  return fields;
}

function replyXml(ctx: AppContext, xml: string) {
  ctx.status = 200;
  ctx.type = "application/xml";
  ctx.body = xml;
}

const notRecorded = () =>
  new AppError("unavailable", "The notice could not be recorded right now; send it again later.", { headers: { "Retry-After": "5" } });

/** `a` in a PIN prompt's action URL: which attempt these digits are (1 to PIN_ATTEMPTS_PER_CALL). */
function attemptOf(ctx: AppContext): number {
  const a = Number(ctx.query.a);
  return Number.isInteger(a) && a >= 1 && a <= PIN_ATTEMPTS_PER_CALL ? a : PIN_ATTEMPTS_PER_CALL;
}

export function vobizFlowRoutes(router: Router<RequestState>, deps: Deps) {
  /** A caller is waiting on this reply: any failure of ours is the polite "unavailable", never an error status. */
  const pin = async (ctx: AppContext) => {
    const fields = carrierFields(ctx);
    const attempt = attemptOf(ctx);
    const deadline = startDeadline(ANSWER_BUDGET_MS);
    let app: AppRecord | undefined;
    try {
      const caller = await authenticateCarrier(deps, ctx, `pin:${attempt}`, fields, deadline);
      app = caller.app;
      await caller.nonceChecked;
      replyXml(ctx, await answerPinDigits(deps, app, fields, attempt, deadline, ctx.state.log));
    } catch (err) {
      if (err instanceof AppError) throw err;
      ctx.state.log.error({ err, appId: app?.id ?? ctx.params.appId, callUuid: fields.CallUUID, attempt }, "PIN webhook failed");
      countUnavailable(deps, "pin", err);
      replyXml(ctx, unavailableReply((app?.messages as AppMessages | undefined) ?? null));
    }
  };
  rawRoute(router, "vobiz.pin", pin);
  rawRoute(router, "vobiz.pinGet", pin);

  const recording = async (ctx: AppContext) => {
    const fields = carrierFields(ctx);
    const deadline = startDeadline(CALLBACK_BUDGET_MS);
    try {
      const caller = await authenticateCarrier(deps, ctx, "recording", fields, deadline);
      await caller.nonceChecked;
      await recordRecording(deps, caller.app, fields, deadline, ctx.state.log);
    } catch (err) {
      if (err instanceof AppError) throw err;
      ctx.state.log.error({ err, appId: ctx.params.appId, callUuid: fields.CallUUID }, "recording webhook failed");
      throw notRecorded();
    }
    replyXml(ctx, emptyXml());
  };
  rawRoute(router, "vobiz.recording", recording);
  rawRoute(router, "vobiz.recordingGet", recording);

  const placedAnswer = async (ctx: AppContext) => {
    const fields = carrierFields(ctx);
    const callId = ctx.params.callId ?? "";
    const deadline = startDeadline(ANSWER_BUDGET_MS);
    let app: AppRecord | undefined;
    try {
      const caller = await authenticateCarrier(deps, ctx, `placed-answer:${callId}`, fields, deadline);
      app = caller.app;
      await caller.nonceChecked;
      const call = await deadline.run(verifyPlacedCall(deps, app, callId, queryString(ctx, "t"), ctx.state.log));
      replyXml(ctx, await answerPlacedCall(deps, app, call, fields, deadline, ctx.state.log));
    } catch (err) {
      if (err instanceof AppError) throw err;
      ctx.state.log.error({ err, appId: app?.id ?? ctx.params.appId, callId }, "placed call's answer webhook failed");
      countUnavailable(deps, "placed", err);
      replyXml(ctx, unavailableReply((app?.messages as AppMessages | undefined) ?? null));
    }
  };
  rawRoute(router, "vobiz.outboundAnswer", placedAnswer);
  rawRoute(router, "vobiz.outboundAnswerGet", placedAnswer);

  const placedHangup = async (ctx: AppContext) => {
    const fields = carrierFields(ctx);
    const callId = ctx.params.callId ?? "";
    const deadline = startDeadline(CALLBACK_BUDGET_MS);
    try {
      const caller = await authenticateCarrier(deps, ctx, `placed-hangup:${callId}`, fields, deadline);
      await caller.nonceChecked;
      const call = await deadline.run(verifyPlacedCall(deps, caller.app, callId, queryString(ctx, "t"), ctx.state.log));
      await recordHangup(deps, caller.app, fields, deadline, ctx.state.log, call.id);
    } catch (err) {
      if (err instanceof AppError) throw err;
      ctx.state.log.error({ err, appId: ctx.params.appId, callId }, "placed call's hangup webhook failed");
      throw notRecorded();
    }
    replyXml(ctx, emptyXml());
  };
  rawRoute(router, "vobiz.outboundHangup", placedHangup);
  rawRoute(router, "vobiz.outboundHangupGet", placedHangup);
}

function queryString(ctx: AppContext, name: string): string | undefined {
  const v = ctx.query[name];
  return typeof v === "string" ? v : undefined;
}
