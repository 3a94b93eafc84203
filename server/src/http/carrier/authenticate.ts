/**
 * Who is calling a carrier webhook, shared by every carrier callback (answer, hangup, dial-status, and the ones to
 * come). All of it runs before anything is written:
 *   1. the app named in the path exists (404 otherwise; an id that cannot be ours is 404 without a lookup);
 *   2. the URL secret `k` matches the app's (constant time);
 *   3. a Vobiz signature over the URL rebuilt from PUBLIC_BASE_URL + path (never the socket's host) verifies;
 *      absent is accepted only when the app's signature switch is off;
 *   4. the signature's nonce is fresh, or is the carrier retrying this very request (same endpoint, CallUUID and
 *      Event): the replay guard (Redis, with the Postgres ledger behind it).
 * Any of 2–4 failing is the same 403 `forbidden` to the caller; the log says which.
 */
import type { Logger } from "pino";
import type { Deps } from "../../deps.js";
import { AppError, notFound } from "../../errors.js";
import { constantTimeEqual } from "../../crypto/tokens.js";
import { verifyVobizSignature } from "../../vobiz/signature.js";
import type { AppRecord } from "../../services/caches.js";
import { noteSignedRequest } from "../../services/apps.js";
import type { CarrierFields } from "../../domain/carrier-fields.js";
import type { Deadline } from "../../time/deadline.js";
import type { AppContext } from "../context.js";

/** What our ids look like (`app_` + a ULID): anything else cannot name an app, and never reaches Postgres. */
const APP_ID = /^app_[0-9A-HJKMNP-TV-Z]{26}$/;

/**
 * Which of our callbacks a request is for; with the CallUUID and Event it is what tells the carrier's retry of a
 * request (same nonce, same fingerprint) from a replay of its nonce elsewhere. A PIN attempt and a placed call's
 * callbacks name their step, so a nonce seen on one is a replay on another.
 */
export type CarrierEndpoint =
  | "answer"
  | "hangup"
  | "dial-status"
  | "recording"
  | `pin:${number}`
  | `placed-answer:${string}`
  | `placed-hangup:${string}`;

export interface CarrierCaller {
  app: AppRecord;
  /** The replay check, started here; await it before anything is written or answered (it may run beside a lookup). */
  nonceChecked: Promise<void>;
}

/** The public refusal: one wording for every reason, so a prober learns nothing about which check failed. */
function forbidden(log: Logger, appId: string, reason: string): never {
  log.warn({ appId, reason }, "carrier webhook refused");
  throw new AppError("forbidden", "The request is not signed by this app's carrier account, or its URL secret is wrong.");
}

/**
 * Steps 1–4. Throws AppError (404/403) for the caller's mistakes; anything else (database down, a deadline spent)
 * is ours, and the route decides how to answer it.
 */
export async function authenticateCarrier(
  deps: Pick<Deps, "appCache" | "replayGuard" | "config" | "db" | "clock" | "logger">,
  ctx: AppContext,
  endpoint: CarrierEndpoint,
  fields: CarrierFields,
  deadline: Deadline,
): Promise<CarrierCaller> {
  const log = ctx.state.log;
  const appId = ctx.params.appId ?? "";
  if (!APP_ID.test(appId)) throw notFound("App");
  const cached = await deadline.run(deps.appCache.get(appId));
  if (!cached) throw notFound("App");
  const app = cached.row;

  const k = ctx.query.k;
  if (typeof k !== "string" || !constantTimeEqual(k, app.url_secret)) forbidden(log, app.id, "url secret missing or wrong");

  const signature = verifyVobizSignature({ headers: ctx.headers, url: deps.config.publicBaseUrl + ctx.path, authToken: cached.authToken });
  if (signature.status === "invalid") forbidden(log, app.id, `invalid ${signature.version ?? ""} signature (${signature.reason ?? "mismatch"})`);
  if (signature.status === "absent" && app.signature_required) forbidden(log, app.id, "signature required but absent");
  // Every nonce that verified is checked: a request signed under two families with different nonces, replayed with
  // one family's headers removed, must not pass on the nonce that was never recorded.
  const nonces = signature.status === "valid" ? (signature.nonces ?? (signature.nonce ? [signature.nonce] : [])) : [];
  const fingerprint = `${endpoint}|${fields.CallUUID ?? ""}|${fields.Event ?? ""}`;
  const nonceChecked = Promise.all(
    nonces.map((nonce) => deps.replayGuard.check({ tenantId: app.tenant_id, appId: app.id, nonce }, fingerprint, deadline)),
  ).then((verdicts) => {
    if (verdicts.includes("replay")) forbidden(log, app.id, "replayed nonce");
    if (verdicts.includes("retry")) log.info({ appId: app.id, callUuid: fields.CallUUID }, "carrier retried a request under its nonce");
    // The carrier reaches this app with its credentials: its URLs are configured right (the console shows when).
    // Noted only once the nonce is known fresh, so a replayed request cannot make a dead configuration look alive.
    if (signature.status === "valid") noteSignedRequest(deps, app);
  });
  nonceChecked.catch(() => undefined); // awaited by the caller; this only keeps an early rejection from being "unhandled"
  return { app, nonceChecked };
}
