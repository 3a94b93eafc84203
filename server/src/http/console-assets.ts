/**
 * Serves the web console's static build (console/dist, made by `pnpm build`) at /console, with the headers a console
 * needs (docs/console.md, "Headers"). Not a spec operation: these are files, not API.
 *
 *   - /console/assets/<hashed file>: the file, cached for a year (`immutable`: its name changes with its content); an
 *     unknown asset is a 404 problem, never the page (a missing script must fail loudly, not load HTML).
 *   - any other GET under /console: index.html (the console routes in the browser), never cached.
 *   - a console that was not built: a 503 page that says how to build it, not a 500.
 *
 * Only files found in the build folder are served, from a listing taken when it is first read (and again while it is
 * missing or incomplete), so no request path ever reaches the file system.
 */
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, extname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Next } from "koa";
import type { Deps } from "../deps.js";
import { AppError } from "../errors.js";
import type { AppContext } from "./context.js";

const PREFIX = "/console";
const ASSETS = `${PREFIX}/assets/`;

/**
 * What the console's pages may load: only this origin's own files, no inline script or style, no framing, no
 * plugins; recordings play from blob: URLs the page makes from the API's audio.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "media-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".json": "application/json",
  ".txt": "text/plain; charset=utf-8",
  ".map": "application/json",
};

interface Build {
  index: Buffer;
  assets: Map<string, { body: Buffer; type: string }>;
}

/** console/dist of this checkout: found by walking up from this module (server/src/http in development, server/dist built). */
export function defaultConsoleDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, "console", "package.json"))) return join(dir, "console", "dist");
    dir = dirname(dir);
  }
  return resolve("console/dist");
}

function loadBuild(dir: string): Build | null {
  try {
    const index = readFileSync(join(dir, "index.html"));
    const assets = new Map<string, { body: Buffer; type: string }>();
    const assetDir = join(dir, "assets");
    for (const name of existsSync(assetDir) ? readdirSync(assetDir) : []) {
      const path = join(assetDir, name);
      if (!statSync(path).isFile()) continue;
      assets.set(name, { body: readFileSync(path), type: TYPES[extname(name)] ?? "application/octet-stream" });
    }
    return { index, assets };
  } catch {
    return null;
  }
}

/**
 * Whether the public URL is https, however it is spelt (`HTTPS://…` too): the console's cookies are then `Secure`
 * and its pages carry HSTS. The public URL decides, not the request: TLS often ends at a proxy in front.
 */
export function isHttps(publicBaseUrl: string): boolean {
  try {
    return new URL(publicBaseUrl).protocol === "https:";
  } catch {
    return false;
  }
}

/** The headers every console response carries, pages and files alike. */
export function setConsoleHeaders(ctx: AppContext, secure: boolean): void {
  ctx.set("Content-Security-Policy", CONSOLE_CSP);
  ctx.set("X-Content-Type-Options", "nosniff");
  ctx.set("X-Frame-Options", "DENY");
  ctx.set("Referrer-Policy", "no-referrer");
  ctx.set("Cross-Origin-Opener-Policy", "same-origin");
  ctx.set("Cross-Origin-Resource-Policy", "same-origin");
  ctx.set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()");
  if (secure) ctx.set("Strict-Transport-Security", "max-age=31536000");
}

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Maskline console not built</title></head>
<body><main><h1>The Maskline console has not been built</h1>
<p>Its files are made by <code>pnpm build</code> (which <code>pnpm start</code> and <code>pnpm test</code> run first).
Run it in the repository, then reload this page. The API under <code>/v1</code> works meanwhile.</p></main></body></html>
`;

const RELIST_AFTER_MS = 5_000;

export function consoleAssets(deps: Pick<Deps, "config">) {
  const dir = deps.config.consoleDir ?? defaultConsoleDir();
  const secure = isHttps(deps.config.publicBaseUrl);
  let build: Build | null = null;
  // A request for a file the listing lacks reads the folder again, but not more than once in RELIST_AFTER_MS: a
  // stream of made-up file names must not become a stream of disk reads of the whole build.
  let listedAt = 0;
  return async function serveConsole(ctx: AppContext, next: Next) {
    if (ctx.path !== PREFIX && !ctx.path.startsWith(`${PREFIX}/`)) return next();
    setConsoleHeaders(ctx, secure);
    if (ctx.method !== "GET" && ctx.method !== "HEAD") {
      ctx.set("Allow", "GET, HEAD");
      throw new AppError("method_not_allowed", "The console's pages and files are read with GET.");
    }
    // Read once it is complete; a build made after the service started is picked up on the next request.
    build ??= loadBuild(dir);
    if (!build) {
      ctx.status = 503;
      ctx.set("Cache-Control", "no-store");
      ctx.type = "text/html; charset=utf-8";
      ctx.body = NOT_BUILT;
      return;
    }
    if (ctx.path.startsWith(ASSETS)) {
      const asset = build.assets.get(ctx.path.slice(ASSETS.length));
      if (!asset) {
        // A file the listing lacks: perhaps built since. Look again (at most every few seconds), then 404.
        if (Date.now() - listedAt < RELIST_AFTER_MS) throw new AppError("not_found", "No such console file.");
        listedAt = Date.now();
        build = loadBuild(dir) ?? build;
        if (!build.assets.has(ctx.path.slice(ASSETS.length))) throw new AppError("not_found", "No such console file.");
        return serveConsole(ctx, next);
      }
      ctx.set("Cache-Control", "public, max-age=31536000, immutable");
      ctx.type = asset.type;
      ctx.body = asset.body;
      return;
    }
    ctx.set("Cache-Control", "no-cache");
    ctx.type = "text/html; charset=utf-8";
    ctx.body = build.index;
  };
}
