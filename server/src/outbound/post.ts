/**
 * One event delivery POST. The connection goes only to an address the policy allows: the host is resolved here and
 * every address checked before the socket opens (an IP literal too), so a name that resolved to a public address at
 * registration and to a private one now is refused without a connection. Redirects are a status like any other,
 * never followed; at most 64 KiB of the answer is read; the whole attempt has one deadline. Network failures are
 * returned, not thrown, and never name the URL's path or query (they may carry a token).
 */
import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import { addressesOf, hostOf, type UrlPolicy } from "./endpoint-url.js";
import { isPublicAddress } from "./addresses.js";

export interface PostResult {
  status: number | null;
  error: string | null;
  retryAfterMs: number | null;
  durationMs: number;
}

const MAX_RESPONSE_BYTES = 64 * 1024;
const MAX_RETRY_AFTER_MS = 24 * 3600_000;
const agents = {
  http: new http.Agent({ keepAlive: true, maxSockets: 64 }),
  https: new https.Agent({ keepAlive: true, maxSockets: 64 }),
};

class BlockedAddress extends Error {
  code = "EBLOCKED";
}

export function parseRetryAfter(value: string | undefined, now: Date): number | null {
  if (!value) return null;
  const seconds = /^\s*(\d{1,9})\s*$/.exec(value);
  const ms = seconds ? Number(seconds[1]) * 1000 : Date.parse(value) - now.getTime();
  if (!Number.isFinite(ms)) return null;
  return Math.min(Math.max(0, ms), MAX_RETRY_AFTER_MS);
}

function describeNetworkError(err: unknown): string {
  const e = err as { code?: string; message?: string };
  if (err instanceof BlockedAddress || e.code === "EBLOCKED") return "blocked address";
  if (e.code === "ECONNREFUSED") return "connection refused";
  if (e.code === "ECONNRESET" || e.code === "EPIPE") return "connection reset";
  if (e.code === "ENOTFOUND" || e.code === "EAI_AGAIN") return "dns failure";
  if (typeof e.code === "string" && (e.code.startsWith("ERR_TLS") || e.code.includes("CERT") || e.code === "EPROTO")) return `tls error: ${e.code}`;
  return `network error: ${e.code ?? "unknown"}`;
}

export async function postWebhook(
  url: string,
  body: string,
  headers: Record<string, string>,
  opts: UrlPolicy & { timeoutMs: number; signal?: AbortSignal; now?: () => Date },
): Promise<PostResult> {
  const started = performance.now();
  const done = (r: Omit<PostResult, "durationMs">): PostResult => ({ ...r, durationMs: performance.now() - started });
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return done({ status: null, error: "invalid url", retryAfterMs: null });
  }
  const host = hostOf(target);
  // Every connection resolves through the policy; Node skips `lookup` for IP literals, so those are checked here.
  if (!opts.allowPrivate) {
    try {
      const literal = await addressesOf(host, async () => []);
      if (literal.length > 0 && !literal.every((a) => isPublicAddress(a.address))) {
        return done({ status: null, error: "blocked address", retryAfterMs: null });
      }
    } catch {
      // not a literal
    }
  }
  const guardedLookup: LookupFunction = (hostname, options, callback) => {
    addressesOf(hostname, opts.resolve).then(
      (all) => {
        const allowed = opts.allowPrivate ? all : all.filter((a) => isPublicAddress(a.address));
        if (allowed.length === 0 || (!opts.allowPrivate && allowed.length !== all.length)) {
          callback(new BlockedAddress("blocked address"), "", 4);
          return;
        }
        if ((options as { all?: boolean }).all) (callback as unknown as (e: null, a: typeof allowed) => void)(null, allowed);
        else callback(null, allowed[0]!.address, allowed[0]!.family);
      },
      (err: unknown) => callback(err as NodeJS.ErrnoException, "", 4),
    );
  };
  const isHttps = target.protocol === "https:";
  const transport = isHttps ? https : http;
  return new Promise<PostResult>((resolve) => {
    let settled = false;
    const finish = (r: Omit<PostResult, "durationMs">) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onAbort);
      resolve(done(r));
    };
    const req = transport.request(
      target,
      {
        method: "POST",
        agent: isHttps ? agents.https : agents.http,
        lookup: guardedLookup,
        headers: {
          "content-type": "application/json",
          "user-agent": "Maskline-Webhooks/1",
          "content-length": String(Buffer.byteLength(body)),
          ...headers,
        },
      },
      (res) => {
        const status = res.statusCode ?? null;
        const retryAfterMs = parseRetryAfter(res.headers["retry-after"], opts.now?.() ?? new Date());
        let read = 0;
        res.on("data", (chunk: Buffer) => {
          read += chunk.length;
          if (read > MAX_RESPONSE_BYTES) {
            res.destroy();
            finish({ status, error: null, retryAfterMs });
          }
        });
        res.on("end", () => finish({ status, error: null, retryAfterMs }));
        res.on("error", () => finish({ status, error: null, retryAfterMs }));
        res.on("close", () => finish({ status, error: null, retryAfterMs }));
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      finish({ status: null, error: "timeout", retryAfterMs: null });
    }, opts.timeoutMs);
    const onAbort = () => {
      req.destroy();
      finish({ status: null, error: "aborted", retryAfterMs: null });
    };
    if (opts.signal?.aborted) return onAbort();
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    req.on("error", (err) => finish({ status: null, error: describeNetworkError(err), retryAfterMs: null }));
    req.end(body);
  });
}
