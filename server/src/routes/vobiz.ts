/**
 * The carrier webhooks. They answer in the carrier's terms: VobizXML with 200, or a deliberate status (403 refused,
 * 404 unknown app, 422 fields no carrier sends, 503 for a notice we could not record). Never a stack trace and
 * never a 500: on the answer path every failure of ours becomes the polite "unavailable" XML.
 */
import type Router from "@koa/router";
import type { Deps } from "../deps.js";
import { AppError, validationFailed } from "../errors.js";
import type { AppContext, RequestState } from "../http/context.js";
import { rawRoute } from "../http/route.js";
import { authenticateCarrier, type CarrierEndpoint } from "../http/carrier/authenticate.js";
import { emptyXml, unavailableReply } from "../vobiz/xml.js";
import type { AppRecord } from "../services/caches.js";
import type { AppMessages } from "../domain/messages.js";
import { isEndOfCallNotice, readCarrierFields, type CarrierFields } from "../domain/carrier-fields.js";
import { startDeadline } from "../time/deadline.js";
import { countUnavailable } from "../http/carrier/unavailable.js";
import { ANSWER_BUDGET_MS, CALLBACK_BUDGET_MS, answerCall } from "../services/answer.js";
import { recordDialStatus, recordHangup } from "../services/call-events.js";

/** Form fields (POST) or query fields (GET); a field no carrier would send is a 422 naming it (never its value). */
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

function notRecorded(): AppError {
  return new AppError("unavailable", "The notice could not be recorded right now; send it again later.", {
    headers: { "Retry-After": "5" },
  });
}

export function vobizRoutes(router: Router<RequestState>, deps: Deps) {
  /** The answer URL: a new call gets Dial or reject XML; an end-of-call notice is recorded and gets empty XML. */
  const answer = async (ctx: AppContext) => {
    const log = ctx.state.log;
    const fields = carrierFields(ctx);
    const notice = isEndOfCallNotice(fields);
    const deadline = startDeadline(notice ? CALLBACK_BUDGET_MS : ANSWER_BUDGET_MS);
    let app: AppRecord | undefined;
    try {
      const caller = await authenticateCarrier(deps, ctx, notice ? "hangup" : "answer", fields, deadline);
      app = caller.app;
      if (notice) {
        await caller.nonceChecked;
        await recordHangup(deps, app, fields, deadline, log);
        replyXml(ctx, emptyXml());
        return;
      }
      replyXml(ctx, await answerCall(deps, app, fields, deadline, log, caller.nonceChecked));
    } catch (err) {
      if (err instanceof AppError) throw err;
      // Ours, not the caller's: log it (never From/To) and end the call politely rather than with a carrier error.
      log.error({ err, appId: app?.id ?? ctx.params.appId, callUuid: fields.CallUUID, notice }, "answer webhook failed");
      if (notice) throw notRecorded();
      countUnavailable(deps, "answer", err);
      replyXml(ctx, unavailableReply((app?.messages as AppMessages | undefined) ?? null));
    }
  };
  rawRoute(router, "vobiz.answer", answer);
  rawRoute(router, "vobiz.answerGet", answer);

  /** Callbacks that only update the call row. A failure to record is a 503, so a retrying carrier can redeliver. */
  const callback = (endpoint: CarrierEndpoint, record: typeof recordHangup) => async (ctx: AppContext) => {
    const log = ctx.state.log;
    const fields = carrierFields(ctx);
    const deadline = startDeadline(CALLBACK_BUDGET_MS);
    try {
      const { app, nonceChecked } = await authenticateCarrier(deps, ctx, endpoint, fields, deadline);
      await nonceChecked;
      await record(deps, app, fields, deadline, log);
    } catch (err) {
      if (err instanceof AppError) throw err;
      log.error({ err, appId: ctx.params.appId, callUuid: fields.CallUUID }, `${endpoint} webhook failed`);
      throw notRecorded();
    }
    replyXml(ctx, emptyXml());
  };
  // An application's hangup_method (and a Dial's method) may be GET: the same fields arrive in the query string.
  rawRoute(router, "vobiz.hangup", callback("hangup", recordHangup));
  rawRoute(router, "vobiz.hangupGet", callback("hangup", recordHangup));
  rawRoute(router, "vobiz.dialStatus", callback("dial-status", recordDialStatus));
  rawRoute(router, "vobiz.dialStatusGet", callback("dial-status", recordDialStatus));
}
