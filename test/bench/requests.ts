/**
 * What the load generator sends: request factories built from a plain, serialisable description (so the spec can
 * cross into the load-generator process) and the check applied to each reply.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { computeSignature, signatureBaseUrl } from "../../server/src/vobiz/signature.js";

/** A signed Vobiz answer request (or the same shape sent to the bare baseline). */
export interface AnswerRequestSpec {
  kind: "answer";
  /** The full URL as configured in Vobiz, `?k=` included: it is what gets signed (without the query) and requested. */
  url: string;
  authToken: string;
  /** [From, To] pairs: a participant's real number and that participant's proxy DID, both E.164. */
  routes: Array<[string, string]>;
}

/**
 * POST /v1/sessions bodies with realistic people: a few busy drivers in many sessions, everyone else new. Each create
 * carries its own Idempotency-Key.
 */
export interface CreateRequestSpec {
  kind: "create";
  url: string;
  apiKey: string;
  /** Busy people; each takes at most `maxPerDriver` sessions during the run, then new people are used instead. */
  drivers: string[];
  maxPerDriver: number;
  /** Share (0..1) of sessions whose first participant is a busy driver. */
  driverShare: number;
  /** New people are `${newPeoplePrefix}${counter padded to newPeopleDigits}`, the counter starting at newPeopleStart. */
  newPeoplePrefix: string;
  newPeopleDigits: number;
  newPeopleStart: number;
  ttlSeconds: number;
}

export type RequestSpec = AnswerRequestSpec | CreateRequestSpec;

export interface BuiltRequest {
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface Factory {
  next(): BuiltRequest;
  /** True when the reply is what this scenario expects (a <Dial> for answers, a 201 for creates). */
  check(status: number, body: string): boolean;
  /** Which statuses count as served (for throughput): 200 for answers, 201 for creates. */
  okStatus: number;
  /** Factory state the caller must carry to the next run (create: the next unused new-person counter). */
  state(): Record<string, number>;
}

// 20 random digits, first non-zero, from one random buffer refilled in bulk (crypto.randomInt per digit is slow).
let pool = Buffer.alloc(0);
let poolPos = 0;
function randomByte(): number {
  if (poolPos >= pool.length) {
    pool = randomBytes(64 * 1024);
    poolPos = 0;
  }
  return pool[poolPos++]!;
}
function randomDigit(): number {
  for (;;) {
    const b = randomByte();
    if (b < 250) return b % 10; // reject 250..255 to keep digits uniform
  }
}
export function nonce20(): string {
  let s = String(1 + (randomDigit() % 9));
  for (let i = 0; i < 19; i++) s += String(randomDigit());
  return s;
}

function pathOf(url: string): string {
  const u = new URL(url);
  return u.pathname + u.search;
}

function answerFactory(spec: AnswerRequestSpec): Factory {
  if (spec.routes.length === 0) throw new Error("answer load needs at least one route");
  const base = signatureBaseUrl(spec.url);
  const path = pathOf(spec.url);
  return {
    okStatus: 200,
    next() {
      const nonce = nonce20();
      const [from, to] = spec.routes[Math.floor(Math.random() * spec.routes.length)]!;
      const body =
        `CallUUID=${randomUUID()}&From=${encodeURIComponent(from)}&To=${encodeURIComponent(to)}` +
        `&Direction=inbound&CallStatus=ringing&Event=StartApp`;
      return {
        path,
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          "x-vobiz-signature-v3": computeSignature("v3", spec.authToken, base, nonce),
          "x-vobiz-signature-v3-nonce": nonce,
        },
        body,
      };
    },
    check: (status, body) => status === 200 && body.includes("<Dial"),
    state: () => ({}),
  };
}

function createFactory(spec: CreateRequestSpec): Factory {
  const path = pathOf(spec.url);
  const used = new Array<number>(spec.drivers.length).fill(0);
  let counter = spec.newPeopleStart;
  const newPerson = () => `${spec.newPeoplePrefix}${String(counter++).padStart(spec.newPeopleDigits, "0")}`;
  const pickDriver = (): string | undefined => {
    if (spec.drivers.length === 0 || Math.random() >= spec.driverShare) return undefined;
    // A few random probes; a driver at the cap is skipped (the pool must never run out for a well-sized person).
    for (let probe = 0; probe < 4; probe++) {
      const i = Math.floor(Math.random() * spec.drivers.length);
      if (used[i]! < spec.maxPerDriver) {
        used[i]!++;
        return spec.drivers[i];
      }
    }
    return undefined;
  };
  let seq = 0;
  return {
    okStatus: 201,
    next() {
      const driver = pickDriver();
      const body = JSON.stringify({
        participants: [
          { number: driver ?? newPerson(), label: driver ? "driver" : "agent" },
          { number: newPerson(), label: "customer" },
        ],
        mode: "two_way",
        ttlSeconds: spec.ttlSeconds,
        reference: `bench-${++seq}`,
      });
      return {
        path,
        headers: {
          "content-type": "application/json",
          authorization: `Bearer ${spec.apiKey}`,
          // A fresh key per create, as the SDK sends on every POST: the server's idempotency claim is part of the cost.
          "idempotency-key": randomUUID(),
        },
        body,
      };
    },
    check: (status) => status === 201,
    state: () => ({ nextNewPerson: counter }),
  };
}

export function buildFactory(spec: RequestSpec): Factory {
  return spec.kind === "answer" ? answerFactory(spec) : createFactory(spec);
}
