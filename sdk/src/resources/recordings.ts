import type { RequestOptions } from "../http.js";
import type { PagePromise } from "../pagination.js";
import type { Recording, RecordingListParams } from "../types.js";
import { APIResource } from "./base.js";

/** The audio of a recording, as `recordings.media` returns it. */
export interface RecordingMedia {
  /** `audio/mpeg` or `audio/wav`. */
  contentType: string;
  data: ArrayBuffer;
}

/** Recordings of calls made with consent; the audio stays at the carrier and is streamed through Maskline. */
export class Recordings extends APIResource {
  /** `GET /v1/recordings?sessionId=&callId=`, newest first. */
  list(filters?: RecordingListParams, opts?: RequestOptions): PagePromise<Recording> {
    return this.paginate(filters, opts, (query, init) => this.http.api.GET("/v1/recordings", { params: { query }, ...init }));
  }

  /** `GET /v1/recordings/{id}`. */
  get(id: string, opts?: RequestOptions): Promise<Recording> {
    return this.call(opts, (init) => this.http.api.GET("/v1/recordings/{id}", { params: { path: { id } }, ...init }));
  }

  /** `GET /v1/recordings/{id}/media`: the audio, fetched from the carrier with the app's credentials. */
  async media(id: string, opts?: RequestOptions): Promise<RecordingMedia> {
    let contentType = "";
    const data = await this.call(opts, async (init) => {
      const result = await this.http.api.GET("/v1/recordings/{id}/media", { params: { path: { id } }, parseAs: "arrayBuffer", ...init });
      contentType = result.response.headers.get("content-type") ?? "";
      return result as typeof result & { data: ArrayBuffer };
    });
    return { contentType, data };
  }

  /** `DELETE /v1/recordings/{id}`: at the carrier first, then here; deleting twice is fine. */
  async delete(id: string, opts?: RequestOptions): Promise<void> {
    await this.call(opts, (init) => this.http.api.DELETE("/v1/recordings/{id}", { params: { path: { id } }, ...init }));
  }
}
