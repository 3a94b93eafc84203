/**
 * Event delivery (docs/events.md): the outbox topic `event` becomes one job per subscribed endpoint, and each job
 * POSTs the event, signed (Standard Webhooks 1.0: `v1` HMAC with the endpoint's secret, and the previous one for a
 * day after a rotation; `v1a` Ed25519 with the service's key), to the endpoint.
 *
 * At least once: the attempt is recorded after the POST, so a crash between the two repeats it, with the same
 * `webhook-id` (the event id) for the receiver to de-duplicate on. Retries follow domain/webhook-delivery.ts. The
 * per-endpoint queue key keeps one slow receiver to its own few slots; the deliveries have their own runner, so
 * they never hold up the service's own jobs, and none of this runs on the answer path (which only writes rows).
 */
import type { Deps } from "../deps.js";
import { newId } from "../crypto/ids.js";
import { hmacSignature, signedContent } from "../crypto/webhook-secrets.js";
import { postWebhook } from "../outbound/post.js";
import { endpointWants } from "../domain/events.js";
import { DELIVERY_TIMEOUT_MS, MAX_DELIVERY_ATTEMPTS, judgeAttempt } from "../domain/webhook-delivery.js";
import { findEvent, EVENT_TOPIC, type EventOutboxPayload } from "../stores/events.js";
import * as endpoints from "../stores/webhook-endpoints.js";
import type { EndpointRow } from "../stores/webhook-endpoints.js";
import { DELIVERIES_PER_ENDPOINT, deliveryJob, newEventRow, recordEvents, toEvent, WEBHOOK_DELIVERY_KIND } from "../services/events.js";
import { toEndpoint } from "../services/webhook-endpoints.js";
import { RetryAt } from "./attempt.js";
import type { ExternalJobKind, OutboxTopic } from "./kinds.js";

export const eventTopic: OutboxTopic = {
  topic: EVENT_TOPIC,
  async jobsFor(trx, row) {
    const { eventId, type } = row.payload as unknown as EventOutboxPayload;
    const subscribed = await endpoints.subscribedEndpoints(trx, row.tenant_id, type);
    return subscribed.map((e) => deliveryJob(row.tenant_id, eventId, e.id));
  },
  // One read of the batch's tenants' enabled endpoints, matched in memory (endpointWants is subscribedEndpoints' rule).
  async jobsForMany(trx, rows) {
    const enabled = await endpoints.enabledEndpointsOf(trx, [...new Set(rows.map((r) => r.tenant_id))]);
    return rows.map((row) => {
      const { eventId, type } = row.payload as unknown as EventOutboxPayload;
      return enabled
        .filter((e) => e.tenant_id === row.tenant_id && endpointWants(e.event_types, type))
        .map((e) => deliveryJob(row.tenant_id, eventId, e.id));
    });
  },
};

/** The secrets that sign now: the current one, and the previous one while its day lasts. */
function liveSecrets(deps: Pick<Deps, "keys">, endpoint: EndpointRow, now: Date): string[] {
  const secrets = [deps.keys.decrypt(endpoint.secret_enc)];
  if (endpoint.previous_secret_enc && endpoint.previous_secret_until && new Date(endpoint.previous_secret_until) > now) {
    secrets.push(deps.keys.decrypt(endpoint.previous_secret_enc));
  }
  return secrets;
}

/** The three Standard Webhooks headers for one attempt. */
export function signDelivery(deps: Pick<Deps, "keys" | "signingKeys">, endpoint: EndpointRow, eventId: string, body: string, now: Date) {
  const timestamp = Math.floor(now.getTime() / 1000);
  const content = signedContent(eventId, timestamp, body);
  const signatures = liveSecrets(deps, endpoint, now).map((secret) => `v1,${hmacSignature(secret, content)}`);
  signatures.push(`v1a,${deps.signingKeys.sign(content)}`);
  return { "webhook-id": eventId, "webhook-timestamp": String(timestamp), "webhook-signature": signatures.join(" ") };
}

/** The endpoint is disabled (410, or failing for days): exactly one caller records `webhook_endpoint.disabled`. */
async function disable(deps: Deps, endpoint: EndpointRow, reason: "gone" | "failing"): Promise<void> {
  await deps.db.transaction(async (trx) => {
    const now = deps.clock.now();
    const row = await endpoints.disableEndpoint(trx, endpoint.tenant_id, endpoint.id, reason, now);
    if (row) await recordEvents(trx, [newEventRow(row.tenant_id, "webhook_endpoint.disabled", toEndpoint(row), now)]);
  });
  deps.logger.warn({ tenantId: endpoint.tenant_id, endpointId: endpoint.id, reason }, "webhook endpoint disabled");
}

export const webhookDeliveryJob: ExternalJobKind = {
  kind: WEBHOOK_DELIVERY_KIND,
  transactional: false,
  maxAttempts: MAX_DELIVERY_ATTEMPTS,
  // The POST's own 15 s, and the rows around it.
  timeoutMs: DELIVERY_TIMEOUT_MS + 10_000,
  concurrencyPerKey: DELIVERIES_PER_ENDPOINT,
  async run(job, deps, signal) {
    const tenantId = job.tenant_id!;
    const { eventId, endpointId } = job.payload as { eventId: string; endpointId: string };
    const endpoint = await endpoints.findEndpoint(deps.db, tenantId, endpointId);
    // Deleted or disabled since: nothing to deliver. Purged past retention: nothing left to say.
    if (!endpoint || !endpoint.enabled) return;
    const event = await findEvent(deps.db, tenantId, eventId);
    if (!event) return;

    const body = JSON.stringify(toEvent(event));
    const startedAt = deps.clock.now();
    const headers = signDelivery(deps, endpoint, event.id, body, startedAt);
    const result = await postWebhook(endpoint.url, body, headers, {
      allowPrivate: deps.config.webhookAllowPrivate,
      resolve: deps.resolver,
      timeoutMs: DELIVERY_TIMEOUT_MS,
      signal,
    });
    if (signal.aborted) throw signal.reason as Error;
    const now = deps.clock.now();
    const failingSince = result.status !== null && result.status >= 200 && result.status < 300
      ? null
      : await endpoints.markEndpointFailing(deps.db, tenantId, endpointId, now);
    const verdict = judgeAttempt(result, job.attempts, failingSince, now);
    deps.metrics.eventDeliveries.inc({
      outcome: verdict.outcome === "succeeded" ? "succeeded" : verdict.disable ? `disabled_${verdict.disable}` : result.status === null ? "unreachable" : "failed",
    });
    await endpoints.insertDelivery(deps.db, {
      tenant_id: tenantId,
      id: newId("whd"),
      endpoint_id: endpointId,
      event_id: eventId,
      attempt: job.attempts,
      outcome: verdict.outcome,
      status_code: result.status,
      error: verdict.outcome === "failed" ? verdict.error : null,
      duration_ms: Math.max(0, Math.round(result.durationMs)),
      created_at: startedAt,
    });
    if (verdict.outcome === "succeeded") {
      // A healthy endpoint's row is not written on every delivery (it would serialise its deliveries on one row).
      if (endpoint.failing_since !== null) await endpoints.markEndpointHealthy(deps.db, tenantId, endpointId);
      return;
    }
    if (verdict.disable) return disable(deps, endpoint, verdict.disable);
    if (verdict.retryAt) throw new RetryAt(verdict.retryAt, `delivery failed: ${verdict.error}`);
    throw new Error(`delivery failed on its last attempt: ${verdict.error}`);
  },
};
