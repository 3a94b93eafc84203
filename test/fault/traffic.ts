/**
 * Concurrent load for the crash test: session creates (each with its own Idempotency-Key and reference) and signed
 * answer webhooks for live sessions (plus strangers, who are turned away), with every attempt and its outcome
 * recorded, so that after the crash each can be checked against what the database kept.
 */
import { randomUUID } from "node:crypto";
import type { CallResult, VobizSimulator } from "../sim/vobiz-simulator.js";
import { DEFAULT_MESSAGES } from "../../server/src/domain/call-decision.js";
import { people } from "../support/fixtures.js";
import type { Api } from "./api.js";
import { sessionBody, stranger, type LiveSession, type TenantWithPool } from "./world.js";

export const TRAFFIC_REQUEST_TIMEOUT_MS = 5_000;

export interface CreateAttempt {
  idempotencyKey: string;
  reference: string;
  body: ReturnType<typeof sessionBody>;
  a: string;
  b: string;
  /** 0: no response (cut off by the crash). */
  status: number;
  sessionId?: string;
  proxyNumbers?: [string, string];
  error?: string;
}

export type AnswerOutcome = "bridged" | "rejected" | "unavailable" | "lost" | "unexpected";

export interface AnswerAttempt {
  call: CallResult;
  outcome: AnswerOutcome;
  fromStranger: boolean;
}

function outcomeOf(call: CallResult): AnswerOutcome {
  if (call.status === 0) return "lost";
  if (call.status !== 200) return "unexpected";
  if (call.kind === "dial") return "bridged";
  if (call.kind === "reject") return call.speak?.[0] === DEFAULT_MESSAGES.unavailable ? "unavailable" : "rejected";
  return "unexpected";
}

export interface Traffic {
  creates: CreateAttempt[];
  answers: AnswerAttempt[];
  /** Stops starting new requests and resolves when every worker's request in flight has settled. */
  stop(): Promise<void>;
}

export function startTraffic(opts: {
  api: Api;
  tenant: TenantWithPool;
  sim: VobizSimulator;
  liveSessions: LiveSession[];
  createWorkers: number;
  answerWorkers: number;
}): Traffic {
  const creates: CreateAttempt[] = [];
  const answers: AnswerAttempt[] = [];
  let stopping = false;

  async function createLoop() {
    while (!stopping) {
      const [a, b] = people(2) as [string, string];
      const reference = `crash-${randomUUID()}`;
      const attempt: CreateAttempt = { idempotencyKey: randomUUID(), reference, body: sessionBody(a, b, reference), a, b, status: 0 };
      const res = await opts.api.request("/v1/sessions", {
        method: "POST",
        apiKey: opts.tenant.apiKey,
        json: attempt.body,
        headers: { "Idempotency-Key": attempt.idempotencyKey },
        timeoutMs: TRAFFIC_REQUEST_TIMEOUT_MS,
      });
      attempt.status = res.status;
      if (res.error) attempt.error = res.error;
      if (res.status === 201) {
        attempt.sessionId = res.body.id;
        attempt.proxyNumbers = [res.body.participants[0].proxyNumber, res.body.participants[1].proxyNumber];
      } else if (res.status !== 0) {
        attempt.error = res.text.slice(0, 300);
      }
      creates.push(attempt);
    }
  }

  async function answerLoop() {
    for (let i = 0; !stopping; i++) {
      const session = opts.liveSessions[Math.floor(Math.random() * opts.liveSessions.length)]!;
      const fromStranger = i % 8 === 7;
      const backwards = Math.random() < 0.5;
      const from = fromStranger ? stranger() : backwards ? session.b : session.a;
      const to = backwards ? session.dB : session.dA;
      const call = await opts.sim.placeCall({ from, to, timeoutMs: TRAFFIC_REQUEST_TIMEOUT_MS });
      answers.push({ call, outcome: outcomeOf(call), fromStranger });
    }
  }

  const workers = [
    ...Array.from({ length: opts.createWorkers }, createLoop),
    ...Array.from({ length: opts.answerWorkers }, answerLoop),
  ];
  return {
    creates,
    answers,
    async stop() {
      stopping = true;
      await Promise.all(workers);
    },
  };
}
