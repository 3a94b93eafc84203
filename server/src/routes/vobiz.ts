/**
 * The carrier webhooks (docs/vobiz.md, design.md §5). They answer in the carrier's terms: VobizXML with 200, or a
 * deliberate status (403 refused, 404 unknown app, 503 for a notice we could not record). Never a stack trace and
 * never a 500: on the answer path every unexpected failure becomes the polite "unavailable" XML.
 *
 * Authentication, in order, all before anything is written:
 *   1. the app named in the path exists (404 otherwise);
 *   2. the URL secret `k` matches the app's (constant time);
 *   3. the Vobiz signature over the URL rebuilt from PUBLIC_BASE_URL + path (never the socket's host) is valid;
 *      absent is accepted only when the app's signature switch is off;
 *   4. the signature's nonce has not been seen for this app (kv, so it holds across replicas with Redis).
 * Any of 2–4 failing is the same 403 `forbidden` to the caller; the log says which.
 */
import type Router from "@koa/router";
import type { Logger } from "pino";
import type { Deps } from "../deps.js";
import { AppError, notFound } from "../errors.js";
import type { AppContext, RequestState } from "../http/context.js";
import { rawRoute } from "../http/route.js";
import { constantTimeEqual } from "../crypto/tokens.js";
import { verifyVobizSignature } from "../vobiz/signature.js";
import { emptyXml } from "../vobiz/xml.js";
import type { AppRow } from "../stores/apps.js";
import { isEndOfCallNotice, unavailableReply, type AppMessages } from "../domain/call-decision.js";
import {
  ANSWER_BUDGET_MS,
  CALLBACK_BUDGET_MS,
  answerCall,
  startDeadline,
  type CallbackFields,
  type Deadline,
} from "../services/answer.js";
import { recordDialStatus, recordHangup } from "../services/call-events.js";

/** Vobiz nonces are random per request; remembering them this long covers any plausible retry or replay window. */
export const NONCE_TTL_MS = 15 * 60_000;
const MAX_APP_ID_LENGTH = 64;

// The fields the service reads. Anything else the carrier sends is accepted and ignored.
const FIELD_NAMES = [
  "CallUUID",
  "From",
  "To",
  "Direction",
  "CallStatus",
  "Event",
  "HangupCause",
  "HangupCauseCode",
  "HangupCauseName",
  "Duration",
  "BillDuration",
  "StartTime",
  "AnswerTime",
  "EndTime",
  "DialStatus",
  "DialHangupCause",
  "DialALegUUID",
  "DialBLegUUID",
  "DialBLegDuration",
  "DialBLegBillDuration",
] as const;

const FIELD_MAX_LENGTH = 256;

/** Form fields (POST) or query fields (GET), as plain strings; repeated fields take their first value. */
function callbackFields(ctx: AppContext): CallbackFields {
  const source: unknown = ctx.method === "GET" ? ctx.query : (ctx.request as { body?: unknown }).body;
  const out: Record<string, string> = {};
  if (source === null || typeof source !== "object") return out;
  const record = source as Record<string, unknown>;
  for (const name of FIELD_NAMES) {
    if (!Object.prototype.hasOwnProperty.call(record, name)) continue;
    const raw = record[name];
    const value = Array.isArray(raw) ? raw[0] : raw;
    if (typeof value === "string") out[name] = value.slice(0, FIELD_MAX_LENGTH);
  }
  return out;
}

function replyXml(ctx: AppContext, xml: string) {
  ctx.status = 200;
  ctx.type = "application/xml";
  ctx.body = xml;
}

/** The public refusal: one wording for every reason, so a prober learns nothing about which check failed. */
function forbidden(log: Logger, appId: string, reason: string): never {
  log.warn({ appId, reason }, "carrier webhook refused");
  throw new AppError("forbidden", "The request is not signed by this app's carrier account, or its URL secret is wrong.");
}

function notRecorded(): AppError {
  return new AppError("unavailable", "The notice could not be recorded right now; send it again later.", {
    headers: { "Retry-After": "5" },
  });
}

/**
 * Steps 1–4 above. Throws AppError (404/403) for the caller's mistakes; anything else it throws (database or kv down,
 * a deadline spent) is ours, and the handler decides how to answer it.
 */
async function authenticate(
  deps: Deps,
  ctx: AppContext,
  deadline: Deadline,
  log: Logger,
): Promise<{ app: AppRow; nonceFresh: Promise<void> }> {
  const appId = ctx.params.appId ?? "";
  if (appId === "" || appId.length > MAX_APP_ID_LENGTH) throw notFound("App");
  const cached = await deadline.run(deps.appCache.get(appId));
  if (!cached) throw notFound("App");
  const app = cached.row;

  const k = ctx.query.k;
  if (typeof k !== "string" || !constantTimeEqual(k, app.url_secret)) forbidden(log, app.id, "url secret missing or wrong");

  const signature = verifyVobizSignature({
    headers: ctx.headers,
    url: deps.config.publicBaseUrl + ctx.path,
    authToken: cached.authToken,
  });
  if (signature.status === "invalid") forbidden(log, app.id, `invalid ${signature.version ?? ""} signature`.trim());
  if (signature.status === "absent" && app.signature_required) forbidden(log, app.id, "signature required but absent");

  // Only the URL and nonce are signed, not the fields: a replayed nonce could carry any From/To, so it is refused.
  // The check is started here and awaited by the caller before anything is written or answered, so it can run
  // alongside the routing lookup. A kv failure rejects it: fail closed ("unavailable", never a Dial).
  const nonce = signature.nonce;
  const nonceFresh =
    nonce === undefined
      ? Promise.resolve()
      : deadline.run(deps.kv.setIfAbsent(`vobiz:nonce:${app.id}:${nonce}`, "1", NONCE_TTL_MS)).then((fresh) => {
          if (!fresh) forbidden(log, app.id, "replayed nonce");
        });
  nonceFresh.catch(() => undefined); // awaited by the caller; this only keeps an early rejection from being "unhandled"
  return { app, nonceFresh };
}

export function vobizRoutes(router: Router<RequestState>, deps: Deps) {
  /** The answer URL: a new call gets Dial or reject XML; an end-of-call notice is recorded and gets empty XML. */
  const answer = async (ctx: AppContext) => {
    const log = ctx.state.log;
    const fields = callbackFields(ctx);
    const notice = isEndOfCallNotice(fields);
    const deadline = startDeadline(notice ? CALLBACK_BUDGET_MS : ANSWER_BUDGET_MS);
    let app: AppRow | undefined;
    try {
      const auth = await authenticate(deps, ctx, deadline, log);
      app = auth.app;
      if (notice) {
        await auth.nonceFresh;
        await recordHangup(deps, app, fields, deadline, log);
        replyXml(ctx, emptyXml());
        return;
      }
      replyXml(ctx, await answerCall(deps, app, fields, deadline, log, auth.nonceFresh));
    } catch (err) {
      if (err instanceof AppError) throw err;
      // Ours, not the caller's: log it (never From/To) and end the call politely rather than with a carrier error.
      log.error({ err, appId: app?.id ?? ctx.params.appId, callUuid: fields.CallUUID, notice }, "answer webhook failed");
      if (notice) throw notRecorded();
      replyXml(ctx, unavailableReply((app?.messages as AppMessages | undefined) ?? null));
    }
  };
  rawRoute(router, "vobiz.answer", answer);
  rawRoute(router, "vobiz.answerGet", answer);

  /** Callbacks that only update the call row. A failure to record is a 503, so a retrying carrier can redeliver. */
  const callback = (record: typeof recordHangup, what: string) => async (ctx: AppContext) => {
    const log = ctx.state.log;
    const fields = callbackFields(ctx);
    const deadline = startDeadline(CALLBACK_BUDGET_MS);
    try {
      const { app, nonceFresh } = await authenticate(deps, ctx, deadline, log);
      await nonceFresh;
      await record(deps, app, fields, deadline, log);
    } catch (err) {
      if (err instanceof AppError) throw err;
      log.error({ err, appId: ctx.params.appId, callUuid: fields.CallUUID }, `${what} webhook failed`);
      throw notRecorded();
    }
    replyXml(ctx, emptyXml());
  };
  rawRoute(router, "vobiz.hangup", callback(recordHangup, "hangup"));
  rawRoute(router, "vobiz.dialStatus", callback(recordDialStatus, "dial-status"));
}
