import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import type Router from "@koa/router";
import type { AppContext, RequestState } from "../http/context.js";
import { rawRoute } from "../http/route.js";

const require = createRequire(import.meta.url);

/**
 * What the reference page may load: its own inline script and styles, images and fonts inlined as data, nothing from
 * another host. The page is built that way (scripts/gen.mjs); the policy makes a browser hold it to that too.
 */
const REFERENCE_CSP = [
  "default-src 'none'",
  "script-src 'unsafe-inline'",
  "style-src 'unsafe-inline'",
  "img-src data:",
  "font-src data:",
  // The reference is one self-contained page: it fetches nothing, so it may connect nowhere.
  "connect-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

interface StaticFile {
  bytes: Buffer;
  etag: string;
}

/**
 * A generated file of @maskline/openapi, read on its first request and then kept: most processes never serve the
 * reference (2.5 MB). The path is resolved now, so a build without the file stops at startup; a failed read is
 * tried again on the next request.
 */
function generatedFile(specifier: string): () => Promise<StaticFile> {
  const path = require.resolve(specifier);
  let pending: Promise<StaticFile> | undefined;
  return () => {
    pending ??= readFile(path).then(
      (bytes) => ({ bytes, etag: `"${createHash("sha256").update(bytes).digest("base64url")}"` }),
      (err: unknown) => {
        pending = undefined;
        throw err;
      },
    );
    return pending;
  };
}

/** The file as it is committed; a client that holds this version (If-None-Match) gets 304. */
function serve(ctx: AppContext, file: StaticFile, type: string) {
  ctx.status = 200;
  ctx.type = type;
  ctx.etag = file.etag;
  ctx.set("Cache-Control", "no-cache");
  if (ctx.fresh) {
    ctx.status = 304;
    return;
  }
  ctx.body = file.bytes;
}

/**
 * `/openapi.json` (the committed openapi/generated/openapi.json, byte for byte) and `/docs` (the reference built
 * from it), open to anyone like the health probes. Raw routes: the bytes are served as they are, never re-serialised.
 */
export function docsRoutes(router: Router<RequestState>) {
  const document = generatedFile("@maskline/openapi/document");
  const reference = generatedFile("@maskline/openapi/reference");
  rawRoute(router, "docs.openapi", async (ctx) => serve(ctx, await document(), "application/json; charset=utf-8"));
  rawRoute(router, "docs.reference", async (ctx) => {
    ctx.set("Content-Security-Policy", REFERENCE_CSP);
    serve(ctx, await reference(), "text/html; charset=utf-8");
  });
}
