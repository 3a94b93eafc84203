/**
 * One event delivery POST (docs/events.md, "Delivery"). The connection goes only where the policy allows: an IP
 * literal is judged before anything starts (Node never calls `lookup` for one), and a name is resolved by our own
 * `lookup` (guarded-lookup.ts) at every new connection, which refuses a non-public answer before the socket
 * connects, so a name that was public at registration and points inside our network now gets no connection.
 * Redirects are a status like any other, never followed. The answer's body is read and dropped, at most 64 KiB of
 * it (then the socket is destroyed), so a hostile receiver cannot make us buffer or hold a socket. One deadline
 * covers the whole attempt: DNS, connect, TLS, the request, the response headers and the body.
 * Network failures are returned in `error`, never thrown, and never carry the URL or a header value.
 */
import http from "node:http";
import https from "node:https";
import type { UrlPolicy } from "./endpoint-url.js";
import { guardedLookup } from "./guarded-lookup.js";
import { describeNetworkError, isStaleSocketError } from "./network-errors.js";
import { parseRetryAfter } from "./retry-after.js";
import { hostOf, parseUrl, urlRuleBroken } from "./url-rules.js";

export interface PostResult {
  /** HTTP status, or null when no response arrived. */
  status: number | null;
  /** Why no status arrived ("timeout", "connection refused", "blocked address", "dns failure", "tls error: …"), else null. */
  error: string | null;
  /** From a Retry-After header (seconds or HTTP date), in ms, capped at 24 h; null if absent/invalid. */
  retryAfterMs: number | null;
  durationMs: number;
}

export interface PostOptions extends UrlPolicy {
  /** The deadline for the whole attempt (15 s in production). */
  timeoutMs: number;
  /** Aborting ends the attempt at once with error "aborted" (the runner is shutting down or lost the job). */
  signal?: AbortSignal;
  /** The clock a Retry-After date is measured against. */
  now?: () => Date;
}

type Outcome = Omit<PostResult, "durationMs">;

export const MAX_RESPONSE_BYTES = 64 * 1024;
const USER_AGENT = "Maskline-Webhooks/1";
/** Headers this module owns: a caller's value for one of these is dropped, not sent twice or instead of ours. */
const OWN_HEADERS = new Set(["content-type", "content-length", "user-agent", "host", "transfer-encoding", "connection"]);

/**
 * Keep-alive pools, one per protocol and per policy: a socket opened while private addresses were allowed is never
 * handed to a delivery that forbids them. Bounded per receiver; idle sockets close after 30 s (sooner when the
 * receiver's Keep-Alive header says so).
 */
const AGENT_OPTIONS = { keepAlive: true, maxSockets: 64, maxFreeSockets: 8, timeout: 30_000 };
const agents = {
  "http:": { strict: new http.Agent(AGENT_OPTIONS), lax: new http.Agent(AGENT_OPTIONS) },
  "https:": { strict: new https.Agent(AGENT_OPTIONS), lax: new https.Agent(AGENT_OPTIONS) },
};

const failed = (error: string): Outcome => ({ status: null, error, retryAfterMs: null });

export async function postWebhook(url: string, body: string, headers: Record<string, string>, opts: PostOptions): Promise<PostResult> {
  const started = performance.now();
  const finished = (outcome: Outcome): PostResult => ({ ...outcome, durationMs: performance.now() - started });

  const target = parseUrl(url);
  if (!target) return finished(failed("invalid url"));
  // The registration rules again: the policy may have changed since, and an IP literal is checked only here.
  const broken = urlRuleBroken(target, opts.allowPrivate);
  if (broken) return finished(failed(broken === "not public" ? "blocked address" : "invalid url"));
  if (opts.signal?.aborted) return finished(failed("aborted"));

  const request = { target, body, headers: requestHeaders(headers, body), opts, deadline: started + opts.timeoutMs };
  const first = await attempt(request);
  // A pooled socket the receiver closed while idle fails before any answer; one fresh try is what a browser does.
  if (first.staleSocket && performance.now() < request.deadline && !opts.signal?.aborted) return finished((await attempt(request)).outcome);
  return finished(first.outcome);
}

function requestHeaders(given: Record<string, string>, body: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(given)) if (!OWN_HEADERS.has(name.toLowerCase())) headers[name] = value;
  headers["content-type"] = "application/json";
  headers["user-agent"] = USER_AGENT;
  headers["content-length"] = String(Buffer.byteLength(body));
  return headers;
}

interface Request {
  target: URL;
  body: string;
  headers: Record<string, string>;
  opts: PostOptions;
  deadline: number;
}

/** One request on one socket; `staleSocket` when it failed on a reused socket before any answer. */
function attempt({ target, body, headers, opts, deadline }: Request): Promise<{ outcome: Outcome; staleSocket: boolean }> {
  return new Promise((resolve) => {
    let settled = false;
    let answered: Outcome | null = null;
    let req: http.ClientRequest | undefined;
    let timer: NodeJS.Timeout | undefined;
    const settle = (outcome: Outcome, staleSocket = false) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onAbort);
      resolve({ outcome, staleSocket });
    };
    // Destroying the request destroys its socket: it never goes back to the pool half-read.
    const stop = (outcome: Outcome) => {
      req?.destroy();
      settle(outcome);
    };
    // Past the deadline with the status in hand, the receiver has answered: the unread rest of the body is dropped.
    const onDeadline = () => stop(answered ?? failed("timeout"));
    const onAbort = () => stop(failed("aborted"));

    const protocol = target.protocol as "http:" | "https:";
    try {
      req = (protocol === "https:" ? https : http).request({
        protocol,
        hostname: hostOf(target),
        port: target.port || undefined,
        path: `${target.pathname}${target.search}`,
        method: "POST",
        headers,
        agent: agents[protocol][opts.allowPrivate ? "lax" : "strict"],
        lookup: guardedLookup(opts),
      });
    } catch {
      // Node refuses a header name or value it cannot send; which one is not said (a value may be a secret).
      return settle(failed("invalid request header"));
    }
    timer = setTimeout(onDeadline, Math.max(0, deadline - performance.now()));
    opts.signal?.addEventListener("abort", onAbort, { once: true });

    req.on("response", (res) => {
      answered = {
        status: res.statusCode ?? null,
        error: null,
        retryAfterMs: parseRetryAfter(res.headers["retry-after"], opts.now?.() ?? new Date()),
      };
      const outcome = answered;
      let received = 0;
      res.on("data", (chunk: Buffer) => {
        received += chunk.length;
        if (received > MAX_RESPONSE_BYTES) stop(outcome);
      });
      res.on("end", () => settle(outcome));
      // The connection broke mid-body: the status stands.
      res.on("error", () => settle(outcome));
      res.on("aborted", () => settle(outcome));
      res.on("close", () => settle(outcome));
    });
    req.on("error", (err) => {
      if (answered) return settle(answered);
      settle(failed(describeNetworkError(err)), req?.reusedSocket === true && isStaleSocketError(err));
    });
    req.end(body);
  });
}
