/**
 * The service logger: pino (JSON lines) with phone-number redaction built in, so no call site has to remember it.
 *
 * Redaction happens in layers, because pino has several doors into a log line:
 *   1. `hooks.logMethod` redacts the message and printf-style arguments, and turns a leading Error into a redacted
 *      `{ err }` object (pino would otherwise copy `err.message` into `msg` untouched);
 *   2. `formatters.log` redacts the merging object (`logger.info({ ... })`), `formatters.bindings` the child
 *      bindings (`logger.child({ ... })`);
 *   3. the `err` and `req` serializers shape those two keys and redact what they keep;
 *   4. `hooks.streamWrite` runs the same scrub over every JSON string literal of the finished line, a safety net
 *      for whatever a future serializer, mixin or pino code path lets through. Only inside string literals: masking
 *      a bare JSON number would make the line invalid JSON. So JSON *numbers* are never masked (epoch millis and
 *      byte counts stay useful); phone numbers are strings everywhere in this code base, keep it that way.
 *      Timestamps are ISO strings (`isoTime`), which the scrub recognises and leaves alone.
 * Every layer keeps the value of a verbatim field (`requestId`, see VERBATIM_KEYS) as issued, so an id a customer
 * quotes can be found in the logs.
 */
import { pino } from "pino";
import type { DestinationStream, Logger, LevelWithSilentOrString, LoggerOptions } from "pino";
import { redactDeep, redactField, redactJsonLine, redactPhoneNumbers } from "./redact.js";

export interface CreateLoggerOptions {
  level: LevelWithSilentOrString;
  /** Where lines go; default stdout. Tests pass an in-memory stream. */
  destination?: DestinationStream;
}

// Query parameters whose values are secrets: `k` is the per-app URL secret on carrier webhooks (docs/carrier-protocol.md §1).
const SECRET_QUERY_KEYS = new Set(["k"]);

function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === "object" ? (value as Record<string, unknown>) : {};
}

/** Drop the values of secret query parameters (keeping the key, so "was it sent?" is still answerable), then scrub. */
export function redactUrl(url: string): string {
  const q = url.indexOf("?");
  if (q === -1) return redactPhoneNumbers(url);
  const hashAt = url.indexOf("#", q);
  const query = url.slice(q + 1, hashAt === -1 ? undefined : hashAt);
  const cleaned = query
    .split("&")
    .map((pair) => {
      const eq = pair.indexOf("=");
      const rawKey = eq === -1 ? pair : pair.slice(0, eq);
      let key = rawKey;
      try {
        key = decodeURIComponent(rawKey.replace(/\+/g, " "));
      } catch {
        // keep the raw key if it is not valid percent-encoding
      }
      return SECRET_QUERY_KEYS.has(key) ? `${rawKey}=[redacted]` : pair;
    })
    .join("&");
  // A fragment never reaches the server in practice; it is dropped rather than reasoned about.
  return redactPhoneNumbers(`${url.slice(0, q)}?${cleaned}`);
}

/** `err` serializer: type, message, stack, code and own fields, all redacted (works on Errors and on plain objects). */
export function serializeError(err: unknown): unknown {
  if (err instanceof Error || (err !== null && typeof err === "object")) return redactDeep(err);
  return redactPhoneNumbers(String(err));
}

/**
 * `req` serializer (Node IncomingMessage or Koa request): method and URL only, plus the user agent. Other headers
 * carry credentials (Authorization, carrier signatures) and are left out entirely rather than filtered.
 */
export function serializeRequest(req: unknown): unknown {
  const r = asRecord(req);
  const headers = asRecord(r.headers ?? r.header);
  const rawUrl = r.originalUrl ?? r.url;
  const out: Record<string, unknown> = {
    method: typeof r.method === "string" ? r.method : undefined,
    url: typeof rawUrl === "string" ? redactUrl(rawUrl) : undefined,
  };
  // `r.userAgent`: the serializer may see its own output again (formatters.log, then pino's serializer pass).
  const ua = headers["user-agent"] ?? r.userAgent;
  if (typeof ua === "string") out.userAgent = redactPhoneNumbers(ua);
  return out;
}

// Applied in formatters.log *before* the generic redaction, so a raw IncomingMessage under `req` is reduced to three
// fields instead of being walked (sockets, parsers…). pino applies them once more afterwards; both are idempotent.
const SERIALIZERS: Record<string, (value: unknown) => unknown> = { err: serializeError, req: serializeRequest };

function redactLogObject(object: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(object)) {
    const serializer = SERIALIZERS[key];
    out[redactPhoneNumbers(key)] = serializer ? serializer(value) : redactField(key, value);
  }
  return out;
}

export function createLogger(options: CreateLoggerOptions): Logger {
  const config: LoggerOptions = {
    level: options.level,
    // No hostname (noise in containers, and it is added by the log shipper); pid tells replicas' processes apart.
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    serializers: SERIALIZERS,
    formatters: {
      log: redactLogObject,
      bindings: (bindings) => redactLogObject(bindings),
    },
    hooks: {
      logMethod(args, method) {
        const [first, ...rest] = args as unknown[];
        let out: unknown[];
        if (typeof first === "string") {
          out = [redactPhoneNumbers(first), ...rest.map(redactDeep)];
        } else if (first instanceof Error) {
          // Same shape pino would produce ({ err }, message defaulting to err.message), but redacted.
          const err = redactDeep(first);
          const msg = typeof rest[0] === "string" ? rest.shift() : asRecord(err).message;
          out = [{ err }, redactPhoneNumbers(String(msg ?? "")), ...rest.map(redactDeep)];
        } else {
          // The merging object is redacted by formatters.log; the message and its arguments are redacted here.
          const [msg, ...fmt] = rest;
          const obj = asRecord(first);
          if (msg === undefined && obj.msg === undefined && obj.err instanceof Error) {
            // pino would take `msg` from `err.message` verbatim; supply the redacted one instead.
            out = [first, redactPhoneNumbers(obj.err.message)];
          } else {
            const message = typeof msg === "string" ? [redactPhoneNumbers(msg)] : msg === undefined ? [] : [redactDeep(msg)];
            out = [first, ...message, ...fmt.map(redactDeep)];
          }
        }
        return method.apply(this, out as Parameters<typeof method>);
      },
      streamWrite: redactJsonLine,
    },
  };
  return options.destination ? pino(config, options.destination) : pino(config);
}
