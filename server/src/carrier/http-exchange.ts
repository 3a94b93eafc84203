/**
 * One HTTP exchange with the carrier on node:http(s), with every failure sorted by what the caller may conclude
 * from it (carrier.ts): until the connection is up (DNS, TCP, TLS) nothing has reached the carrier, so a failure
 * is CarrierUnreachable; from then on the carrier may have acted on the request, so a timeout or a broken
 * connection is CarrierOutcomeUnknown. Redirects are a status like any other, never followed. Failures carry a
 * short word from the error's code (outbound/network-errors.ts), never a Node message: those name the host and the
 * path, and nothing here may repeat a header (the auth token is one).
 */
import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import { describeNetworkError, isStaleSocketError } from "../outbound/network-errors.js";
import { hostOf } from "../outbound/url-rules.js";
import { CarrierOutcomeUnknown, CarrierUnreachable, type CarrierOperation } from "./carrier.js";

export interface Agents {
  "http:": http.Agent;
  "https:": https.Agent;
}

/**
 * Keep-alive pools. Idle sockets close after 4 s, under the usual server keep-alive timeouts (5 s and up), so a
 * request rarely lands on a socket the carrier has just closed: for `POST Call/` that would be an unknown outcome.
 */
export function keepAliveAgents(): Agents {
  const options = { keepAlive: true, maxSockets: 32, maxFreeSockets: 8, timeout: 4_000 };
  return { "http:": new http.Agent(options), "https:": new https.Agent(options) };
}

export interface Exchange {
  operation: CarrierOperation;
  method: "GET" | "POST" | "DELETE";
  url: URL;
  headers: Record<string, string>;
  body?: string;
  agents: Agents;
  /** Node's own resolver when absent. */
  lookup?: LookupFunction;
  /** performance.now() by which the response headers must have arrived. */
  deadline: number;
  /** GET and DELETE get one fresh try when a pooled socket turns out to have been closed by the carrier while idle. */
  idempotent: boolean;
}

export interface Opened {
  req: http.ClientRequest;
  res: http.IncomingMessage;
}

type Attempt = ({ ok: true } & Opened) | { ok: false; error: CarrierUnreachable | CarrierOutcomeUnknown; stale: boolean };

/** Sends the request and waits for the response headers; throws CarrierUnreachable or CarrierOutcomeUnknown. */
export async function open(exchange: Exchange): Promise<Opened> {
  let result = await attempt(exchange);
  if (!result.ok && result.stale && exchange.idempotent && performance.now() < exchange.deadline) result = await attempt(exchange);
  if (!result.ok) throw result.error;
  return { req: result.req, res: result.res };
}

function attempt(ex: Exchange): Promise<Attempt> {
  return new Promise((resolve) => {
    let settled = false;
    // True once the carrier may have received something: the connection is up (after TLS), or was already (pooled).
    let sent = false;
    let reused = false;
    let timer: NodeJS.Timeout | undefined;
    let req: http.ClientRequest | undefined;
    const fail = (err: unknown, timedOut: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req?.destroy();
      const why = timedOut ? (sent ? "timeout" : "connect timeout") : describeNetworkError(err);
      const error = sent ? new CarrierOutcomeUnknown(ex.operation, why) : new CarrierUnreachable(ex.operation, why);
      resolve({ ok: false, error, stale: reused && !timedOut && isStaleSocketError(err) });
    };

    const protocol = ex.url.protocol === "https:" ? "https:" : "http:";
    try {
      req = (protocol === "https:" ? https : http).request({
        protocol,
        hostname: hostOf(ex.url),
        port: ex.url.port || undefined,
        path: `${ex.url.pathname}${ex.url.search}`,
        method: ex.method,
        headers: ex.headers,
        agent: ex.agents[protocol],
        lookup: ex.lookup,
      });
    } catch {
      // Node refuses a header it cannot send; which one is not said (the token is a header).
      settled = true;
      resolve({ ok: false, error: new CarrierUnreachable(ex.operation, "invalid request header"), stale: false });
      return;
    }
    const request = req;
    timer = setTimeout(() => fail(null, true), Math.max(0, ex.deadline - performance.now()));

    request.on("socket", (socket) => {
      reused = request.reusedSocket;
      if (reused || (protocol === "http:" && !socket.connecting)) sent = true;
      else socket.once(protocol === "https:" ? "secureConnect" : "connect", () => (sent = true));
    });
    request.on("response", (res) => {
      if (settled) return void res.destroy();
      settled = true;
      clearTimeout(timer);
      resolve({ ok: true, req: request, res });
    });
    // Stays attached after the response: a later socket error must not become an unhandled 'error' event.
    request.on("error", (err) => fail(err, false));
    request.end(ex.body);
  });
}

export interface BodyRead {
  bytes: Buffer;
  outcome: "complete" | "too large" | "timeout" | "broken";
}

/** Reads a whole body of at most maxBytes by the deadline; past either, the socket is destroyed, never pooled half-read. */
export function readBody(res: http.IncomingMessage, maxBytes: number, deadline: number): Promise<BodyRead> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (outcome: BodyRead["outcome"]) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (outcome !== "complete") res.destroy();
      resolve({ bytes: Buffer.concat(chunks), outcome });
    };
    const timer = setTimeout(() => finish("timeout"), Math.max(0, deadline - performance.now()));
    res.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) return finish("too large");
      chunks.push(chunk);
    });
    res.on("end", () => finish("complete"));
    res.on("error", () => finish("broken"));
    res.on("close", () => finish(res.complete ? "complete" : "broken"));
  });
}

export interface StreamOptions {
  operation: CarrierOperation;
  /** A body that sends nothing for this long while we wait for it is dropped. */
  idleMs: number;
  maxBytes: number;
}

/**
 * A response body as an async iterable that is pulled, not pushed: the idle clock runs only while we wait for the
 * carrier, not while the consumer is busy with a chunk. Ending early (break, cancel) destroys the socket.
 */
export function streamBody(res: http.IncomingMessage, opts: StreamOptions): { body: AsyncIterable<Uint8Array>; cancel(): void } {
  let cancelled = false;
  async function* chunks(): AsyncGenerator<Uint8Array> {
    const iterator = (res as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    let stalled = false;
    let received = 0;
    let timer: NodeJS.Timeout | undefined;
    try {
      for (;;) {
        timer = setTimeout(() => {
          stalled = true;
          res.destroy();
        }, opts.idleMs);
        let next: IteratorResult<Buffer>;
        try {
          next = await iterator.next();
        } catch (err) {
          if (cancelled) return;
          throw new CarrierOutcomeUnknown(opts.operation, stalled ? "body stalled" : describeNetworkError(err));
        } finally {
          clearTimeout(timer);
        }
        if (next.done || cancelled) {
          if (stalled) throw new CarrierOutcomeUnknown(opts.operation, "body stalled");
          return;
        }
        received += next.value.length;
        if (received > opts.maxBytes) throw new CarrierOutcomeUnknown(opts.operation, `body over ${opts.maxBytes} bytes`);
        yield next.value;
      }
    } finally {
      if (!res.complete) res.destroy();
    }
  }
  return {
    body: chunks(),
    cancel() {
      cancelled = true;
      res.destroy();
    },
  };
}
