/**
 * What a fault test needs to exist before it breaks something: a tenant with an app and a pool, and live
 * two-way sessions, all made through the public API of the service under test.
 */
import { randomUUID } from "node:crypto";
import { AUTH_TOKEN, people, uniqueDids } from "../support/fixtures.js";
import { describeReply, type Api } from "./api.js";

export interface AppUrls {
  id: string;
  answerUrl: string;
  hangupUrl: string;
  dialStatusUrl: string;
}

export interface TenantWithPool {
  tenantId: string;
  apiKey: string;
  app: AppUrls;
  pool: string;
  dids: string[];
}

export interface LiveSession {
  id: string;
  /** Participant 0 and 1's real numbers. */
  a: string;
  b: string;
  /** The DID each dials (participants[i].proxyNumber): a dials dA and reaches b, who sees dB, and back. */
  dA: string;
  dB: string;
  participantIds: [string, string];
}

export async function tenantWithPool(api: Api, opts: { dids?: number; app?: Record<string, unknown> } = {}): Promise<TenantWithPool> {
  const { tenantId, apiKey } = await api.createTenant();
  const app = await api.request("/v1/apps", {
    method: "POST",
    apiKey,
    json: { name: "Fault app", vobizAuthId: "MA_FAULT", vobizAuthToken: AUTH_TOKEN, ...opts.app },
  });
  if (app.status !== 201) throw new Error(`creating an app: ${describeReply(app)}`);
  const pool = "default";
  const numbers = await api.request("/v1/numbers", {
    method: "POST",
    apiKey,
    json: { appId: app.body.id, numbers: uniqueDids(opts.dids ?? 2), pool },
  });
  if (numbers.status !== 201) throw new Error(`importing numbers: ${describeReply(numbers)}`);
  return { tenantId, apiKey, app: app.body as AppUrls, pool, dids: numbers.body.data.map((n: { number: string }) => n.number) };
}

export function sessionBody(a: string, b: string, reference = `ref-${randomUUID()}`) {
  return { participants: [{ number: a, label: "agent" }, { number: b, label: "customer" }], mode: "two_way", reference };
}

export function liveSessionFrom(body: { id: string; participants: Array<{ id: string; proxyNumber: string }> }, a: string, b: string): LiveSession {
  const [p0, p1] = body.participants as [{ id: string; proxyNumber: string }, { id: string; proxyNumber: string }];
  return { id: body.id, a, b, dA: p0.proxyNumber, dB: p1.proxyNumber, participantIds: [p0.id, p1.id] };
}

/** Opens a two-way session between two fresh people; throws unless it is 201. */
export async function openSession(api: Api, t: TenantWithPool): Promise<LiveSession> {
  const [a, b] = people(2) as [string, string];
  const res = await api.request("/v1/sessions", { method: "POST", apiKey: t.apiKey, json: sessionBody(a, b) });
  if (res.status !== 201) throw new Error(`opening a session: ${describeReply(res)}`);
  return liveSessionFrom(res.body, a, b);
}

/** A person in no session of this tenant. */
export const stranger = (): string => people(1, 77)[0]!;
