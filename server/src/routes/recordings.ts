import { Readable } from "node:stream";
import type Router from "@koa/router";
import type { Deps } from "../deps.js";
import { tenantIdOf, type RequestState } from "../http/context.js";
import { route } from "../http/route.js";
import { decodeCursor, toPage } from "../http/pagination.js";
import * as recordings from "../services/recordings.js";

const MEDIA_TYPES = { mp3: "audio/mpeg", wav: "audio/wav" } as const;

export function recordingRoutes(router: Router<RequestState>, deps: Deps) {
  route(router, deps, "recordings.list", async (ctx, { query }) => {
    const limit = query.limit;
    const rows = await recordings.listRecordings(deps, tenantIdOf(ctx), {
      limit,
      after: decodeCursor(query.cursor),
      sessionId: query.sessionId,
      callId: query.callId,
    });
    return { status: 200, body: toPage(rows, limit, recordings.toRecording) };
  });

  route(router, deps, "recordings.get", async (ctx, { path }) => ({
    status: 200,
    body: await recordings.getRecording(deps, tenantIdOf(ctx), path.id),
  }));

  /**
   * The audio, streamed from the carrier through this response: never buffered whole, never a link. If the
   * client goes away, the carrier's stream is cancelled with it.
   */
  route(router, deps, "recordings.media", async (ctx, { path }) => {
    const media = await recordings.recordingMedia(deps, tenantIdOf(ctx), path.id);
    ctx.type = MEDIA_TYPES[media.format];
    if (media.contentLength !== null) ctx.length = media.contentLength;
    ctx.set("Cache-Control", "private, no-store");
    const body = Readable.from(media.body);
    body.on("close", () => media.cancel());
    return { status: 200, body: body as never };
  });

  route(router, deps, "recordings.delete", async (ctx, { path }) => {
    await recordings.deleteRecording(deps, tenantIdOf(ctx), path.id);
    return { status: 204 };
  });
}
