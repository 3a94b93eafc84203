/**
 * The answer path (design.md §5): whom to connect, decided in one indexed lookup and recorded in one insert.
 *
 * Everything here runs under a Deadline: Vobiz wants XML within 1–2 s and drops the call on silence, so a slow or
 * unreachable database must turn into the polite "unavailable" reply well inside that, not into knex's 5 s acquire
 * timeout. The caller (routes/vobiz.ts) turns any error thrown from here into that reply.
 */
import type { Logger } from "pino";
import type { Deps } from "../deps.js";
import { newId } from "../crypto/ids.js";
import { normalizeForLookup } from "../phone/numbers.js";
import { webhookUrls } from "../domain/webhook-urls.js";
import {
  callStatusOf,
  decideCall,
  messageFor,
  unavailableReply,
  type ActiveRoute,
  type AppMessages,
  type EndedRoute,
} from "../domain/call-decision.js";
import { rejectXml } from "../vobiz/xml.js";
import type { AppRow } from "../stores/apps.js";
import * as calls from "../stores/calls.js";
import * as routing from "../stores/routing.js";

/** Total time the answer path may spend waiting on the database and kv: a reply well inside 1 s. */
export const ANSWER_BUDGET_MS = 700;
/** Callbacks (hangup, dial-status) may take up to 3 s by Vobiz's rules; stay well inside that. */
export const CALLBACK_BUDGET_MS = 2_000;

export class DeadlineExceeded extends Error {
  override name = "DeadlineExceeded";
}

/** One time budget shared by every awaited I/O step of a request. */
export interface Deadline {
  remainingMs(): number;
  /** Resolves with `work`, or rejects with DeadlineExceeded once the budget is spent (the work is abandoned). */
  run<T>(work: PromiseLike<T>): Promise<T>;
}

export function startDeadline(budgetMs: number, now: () => number = () => performance.now()): Deadline {
  const endsAt = now() + budgetMs;
  const remainingMs = () => Math.max(0, endsAt - now());
  return {
    remainingMs,
    run<T>(work: PromiseLike<T>): Promise<T> {
      // Promise.resolve starts a knex builder (a thenable); the catch keeps an abandoned query from surfacing
      // later as an unhandled rejection.
      const started = Promise.resolve(work);
      started.catch(() => undefined);
      const left = remainingMs();
      if (left <= 0) return Promise.reject(new DeadlineExceeded(`deadline of ${budgetMs} ms spent`));
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new DeadlineExceeded(`deadline of ${budgetMs} ms spent`)), left);
      });
      return Promise.race([started, expired]).finally(() => clearTimeout(timer));
    },
  };
}

/** The carrier's fields, by their exact names; absent ones are undefined. */
export type CallbackFields = Readonly<Record<string, string | undefined>>;

/** Longer than any carrier's call id; a longer one is not a call we could have answered. */
export const MAX_CALL_UUID_LENGTH = 128;

/**
 * A new inbound call (not an end-of-call notice: the route sends those to call-events). Idempotent on CallUUID:
 * the first request's reply is stored (encrypted: a bridge names a real number) and every later request for the
 * same call, concurrent or not, gets those exact bytes and writes nothing.
 */
export async function answerCall(
  deps: Pick<Deps, "db" | "keys" | "clock" | "config" | "callLog">,
  app: AppRow,
  fields: CallbackFields,
  deadline: Deadline,
  log: Logger,
  /** The replay check, run alongside the lookup; it must pass before anything is recorded or answered. */
  authenticated: Promise<void> = Promise.resolve(),
): Promise<string> {
  const messages = app.messages as AppMessages;
  const callUuid = fields.CallUUID?.trim() ?? "";
  if (callUuid === "" || callUuid.length > MAX_CALL_UUID_LENGTH) {
    // Not something the carrier sends; without a CallUUID nothing can be recorded or retried safely.
    await authenticated;
    log.warn({ appId: app.id }, "answer request without a usable CallUUID: refused");
    return rejectXml(messageFor(messages, "notInService"));
  }

  const from = normalizeForLookup(fields.From ?? "", app.default_country);
  const to = normalizeForLookup(fields.To ?? "", app.default_country);
  let active: ActiveRoute | null = null;
  let ended: EndedRoute | null = null;
  if (from !== null && to !== null) {
    const key: routing.RouteKey = { tenantId: app.tenant_id, appId: app.id, did: to, callerBidx: deps.keys.blindIndex(from) };
    const [row] = await Promise.all([deadline.run(routing.findActiveRoute(deps.db, key)), authenticated]);
    if (row) {
      active = {
        sessionId: row.session_id,
        sessionStatus: row.session_status,
        sessionMode: row.session_mode,
        expiresAt: new Date(row.expires_at),
        callerParticipantId: row.caller_participant_id,
        callerPosition: Number(row.caller_position),
        otherParticipantId: row.other_participant_id,
        otherNumber: deps.keys.decrypt(row.other_number_enc),
        otherDid: row.other_did,
      };
    } else {
      const last = await deadline.run(routing.findEndedRoute(deps.db, key));
      if (last) {
        ended = {
          sessionId: last.session_id,
          sessionStatus: last.session_status,
          expiresAt: new Date(last.expires_at),
          callerParticipantId: last.caller_participant_id,
        };
      }
    }
  }

  await authenticated; // (already settled when a lookup ran; the invalid-number path has not waited yet)
  const now = deps.clock.now();
  const outcome = decideCall({
    from,
    to,
    active,
    ended,
    now,
    app: {
      ringTimeoutSeconds: app.ring_timeout_seconds,
      messages,
      dialStatusUrl: webhookUrls(deps.config.publicBaseUrl, app.id, app.url_secret).dialStatusUrl,
    },
  });

  const row: calls.NewCallRow & { reply_enc: string } = {
    id: newId("call"),
    tenant_id: app.tenant_id,
    app_id: app.id,
    call_uuid: callUuid,
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
  // Claimed in kv before the reply (so a retried CallUUID replays these exact bytes), written to Postgres after it.
  const earlier = await deadline.run(deps.callLog.record(row));
  if (earlier !== null) {
    log.info({ appId: app.id, callUuid }, "answer replayed for a known CallUUID");
    return deps.keys.decrypt(earlier);
  }
  log.info(
    { appId: app.id, callUuid, callId: row.id, sessionId: outcome.sessionId, decision: outcome.decision },
    "call answered",
  );
  return outcome.xml;
}
