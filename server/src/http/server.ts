/**
 * The one HTTP server the service runs on (main.ts, and the test harness), with the limits Node leaves loose:
 *   - a client gets `requestTimeoutMs` to send a whole request, headers and body (Node's default is five minutes, and
 *     it looks for stalled requests only every 30 s, so a body that stopped arriving held a connection for 70 s);
 *   - what Node refuses before the app sees it (a stalled request, headers over 16 KiB, chunk extensions too long, a
 *     malformed request line or header) is answered like any other error, application/problem+json with a stable
 *     `code` and a request id, and then the connection is closed.
 *
 * Two steps, because the test harness must bind its port before it can build the config (the public URL names it).
 */
import { randomUUID } from "node:crypto";
import { STATUS_CODES, createServer, type RequestListener, type Server } from "node:http";
import type { Socket } from "node:net";
import type { Logger } from "pino";
import type { Config } from "../config.js";
import type { ErrorCode } from "../errors.js";
import { problemBody } from "./errors.js";

/** How often Node looks for stalled requests: a stalled one is cut off at most this long after its timeout. */
const STALL_CHECK_INTERVAL_MS = 500;
/** A client that does not read our refusal does not keep its socket: closed this long after we answered. */
const CLOSE_AFTER_ANSWER_MS = 1_000;

export function createHttpServer(): Server {
  return createServer({ connectionsCheckingInterval: STALL_CHECK_INTERVAL_MS });
}

/** What Node's parser and timers report, as our codes. Anything else on the socket means the client went away. */
function codeForClientError(err: NodeJS.ErrnoException): { code: ErrorCode; detail: string } | null {
  switch (err.code) {
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return { code: "request_timeout", detail: "The request was not received in time; the connection is closed." };
    case "HPE_HEADER_OVERFLOW":
      return { code: "headers_too_large", detail: "The request's header fields are too large." };
    case "HPE_CHUNK_EXTENSIONS_OVERFLOW":
      return { code: "payload_too_large", detail: "The request's chunk extensions are too large." };
    default:
      return err.code?.startsWith("HPE_") ? { code: "bad_request", detail: "The request is not valid HTTP/1.1." } : null;
  }
}

function rawProblemResponse(code: ErrorCode, detail: string, requestId: string): string {
  const problem = problemBody(code, detail, requestId);
  const body = JSON.stringify(problem);
  return (
    `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status] ?? ""}\r\n` +
    "Content-Type: application/problem+json\r\n" +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    `X-Request-Id: ${requestId}\r\n` +
    "Connection: close\r\n\r\n" +
    body
  );
}

function onClientError(logger: Logger) {
  return (err: NodeJS.ErrnoException, socket: Socket) => {
    const answer = codeForClientError(err);
    // Like Node's own handler: a response may be written only if none has started on this socket. (`_httpMessage` is
    // the in-flight ServerResponse, if any; Node exposes no public equivalent.)
    const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (!answer || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const requestId = `req_${randomUUID()}`;
    // The raw packet is never logged: it may hold credentials and phone numbers.
    logger.info({ requestId, code: answer.code, reason: err.code }, "request refused before routing");
    socket.end(rawProblemResponse(answer.code, answer.detail, requestId), () => socket.destroy());
    setTimeout(() => socket.destroy(), CLOSE_AFTER_ANSWER_MS).unref();
  };
}

/** Attaches the app and this service's limits to a server from createHttpServer (before or after it listens). */
export function serveApp(
  server: Server,
  app: { callback(): RequestListener },
  config: Pick<Config, "requestTimeoutMs">,
  logger: Logger,
): Server {
  server.requestTimeout = config.requestTimeoutMs;
  // Headers come first and are small; they get no longer than the whole request.
  server.headersTimeout = config.requestTimeoutMs;
  server.on("clientError", onClientError(logger));
  server.on("request", app.callback());
  return server;
}
