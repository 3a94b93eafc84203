// An ES module that uses @maskline/sdk as an integrator would, type-checked against the packed tarball.
import {
  Maskline,
  PoolExhaustedError,
  webhooks,
  type Call,
  type CallListParams,
  type CreateSessionRequest,
  type Event,
  type ProblemParticipant,
  type Session,
} from "@maskline/sdk";

const maskline = new Maskline({ apiKey: "mk_live_example", baseUrl: "http://localhost:8080", maxRetries: 1 });

export async function openOrder(reference: string): Promise<Session | ProblemParticipant> {
  const body: CreateSessionRequest = {
    participants: [{ number: "+919888800001", label: "courier" }, { number: "+919888800002", label: "customer" }],
    reference,
  };
  try {
    return await maskline.sessions.create(body, { idempotencyKey: `order-${reference}` });
  } catch (err) {
    if (err instanceof PoolExhaustedError && err.participant) return err.participant;
    throw err;
  }
}

export async function recentCalls(sessionId: string): Promise<Call[]> {
  const filters: CallListParams = { sessionId, limit: 50 };
  return maskline.calls.list(filters).toArray({ limit: 100 });
}

export function received(rawBody: Uint8Array, headers: Record<string, string>, secret: string): string {
  const event: Event = webhooks.verify(rawBody, headers, secret);
  return event.type === "call.started" ? `${event.data.id}: ${event.data.decision}` : event.type;
}
