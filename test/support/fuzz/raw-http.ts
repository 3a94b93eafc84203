/**
 * A deliberately dumb HTTP/1.1 client over a plain TCP socket. fetch and node:http both refuse (or rewrite) much of
 * what a fuzzer must send: NUL and control bytes in headers, `..` and `%00` in paths, Content-Encoding on a plain
 * body, a Content-Length it did not compute. Here the bytes written are exactly the case's bytes, one connection per
 * request (`Connection: close`), and the whole reply is read until the server closes.
 */
import { connect } from "node:net";

export interface RawRequest {
  method: string;
  /** Written verbatim as the request target (latin1 bytes), so it may hold anything a case wants. */
  path: string;
  /** Written verbatim, in order, as latin1 bytes. Host, Connection and Content-Length are added unless present. */
  headers: Array<[string, string]>;
  body?: Buffer;
  /** Send the body with Transfer-Encoding: chunked (the client frames it; `rawChunked` skips framing). */
  chunked?: boolean;
  /** The body is already the exact bytes to write after the head, framing included. */
  rawChunked?: boolean;
}

export interface RawResponse {
  status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
  elapsedMs: number;
}

export type RawResult = { ok: true; response: RawResponse } | { ok: false; error: string; elapsedMs: number };

const hasHeader = (headers: Array<[string, string]>, name: string) => headers.some(([n]) => n.toLowerCase() === name);

export function encodeRequest(req: RawRequest, host: string): Buffer {
  const headers = [...req.headers];
  if (!hasHeader(headers, "host")) headers.unshift(["Host", host]);
  if (!hasHeader(headers, "connection")) headers.push(["Connection", "close"]);
  let body = req.body ?? Buffer.alloc(0);
  if (req.chunked && !req.rawChunked) {
    headers.push(["Transfer-Encoding", "chunked"]);
    body = Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from("\r\n0\r\n\r\n")]);
  } else if (req.rawChunked) {
    if (!hasHeader(headers, "transfer-encoding")) headers.push(["Transfer-Encoding", "chunked"]);
  } else if (req.body !== undefined && !hasHeader(headers, "content-length")) {
    headers.push(["Content-Length", String(body.length)]);
  }
  const head = `${req.method} ${req.path} HTTP/1.1\r\n${headers.map(([n, v]) => `${n}: ${v}\r\n`).join("")}\r\n`;
  return Buffer.concat([Buffer.from(head, "latin1"), body]);
}

function decodeChunked(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = data.indexOf("\r\n", at);
    if (lineEnd === -1) throw new Error("truncated chunked body");
    const size = parseInt(data.subarray(at, lineEnd).toString("latin1").split(";")[0]!, 16);
    if (!Number.isFinite(size)) throw new Error("bad chunk size");
    if (size === 0) return Buffer.concat(parts);
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}

/** Parses one complete response out of everything the server sent before closing. */
export function parseResponse(data: Buffer, elapsedMs: number): RawResponse {
  const headEnd = data.indexOf("\r\n\r\n");
  if (headEnd === -1)
    throw new Error(data.length === 0 ? "connection closed without a response" : "incomplete response head");
  const lines = data.subarray(0, headEnd).toString("latin1").split("\r\n");
  const statusLine = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]!);
  if (!statusLine) throw new Error(`not an HTTP status line: ${JSON.stringify(lines[0]!.slice(0, 80))}`);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  const rest = data.subarray(headEnd + 4);
  let body: Buffer;
  if (/\bchunked\b/i.test(headers["transfer-encoding"] ?? "")) body = decodeChunked(rest);
  else if (headers["content-length"] !== undefined) {
    const length = Number(headers["content-length"]);
    if (rest.length < length) throw new Error(`body truncated: ${rest.length} of ${length} bytes`);
    body = rest.subarray(0, length);
  } else body = rest;
  return { status: Number(statusLine[1]), headers, body: Buffer.from(body), elapsedMs };
}

/**
 * Sends one request and resolves with the parsed reply, or with an error (timeout, nothing answered). A write
 * failure is not fatal by itself: a server may answer 413 and close before reading an oversized body, and what it
 * answered is still read.
 */
export function sendRaw(
  target: { host: string; port: number },
  req: RawRequest,
  timeoutMs: number,
): Promise<RawResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const socket = connect({ host: target.host, port: target.port });
    const finish = (result: RawResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const complete = (why?: string) => {
      const elapsedMs = performance.now() - started;
      try {
        finish({ ok: true, response: parseResponse(Buffer.concat(chunks), elapsedMs) });
      } catch (err) {
        finish({ ok: false, error: why ? `${why}; ${(err as Error).message}` : (err as Error).message, elapsedMs });
      }
    };
    const timer = setTimeout(() => {
      finish({
        ok: false,
        error: `no complete response within ${timeoutMs} ms (${Buffer.concat(chunks).length} bytes received)`,
        elapsedMs: performance.now() - started,
      });
    }, timeoutMs);
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("end", () => complete());
    socket.on("error", (err: NodeJS.ErrnoException) => {
      // EPIPE/ECONNRESET while writing an oversized body: keep whatever reply already arrived.
      if (chunks.length > 0) complete(err.code);
      else if (err.code === "EPIPE" || err.code === "ECONNRESET") complete(`socket ${err.code}`);
      else
        finish({ ok: false, error: `socket error ${err.code ?? err.message}`, elapsedMs: performance.now() - started });
    });
    socket.write(encodeRequest(req, `${target.host}:${target.port}`));
  });
}
