/**
 * The server's own account of what went wrong. A 200 "unavailable" XML or a webhook 503 can hide an exception while
 * the database is perfectly reachable; the error-level log line it leaves (with the request id) gives it away.
 * Lines without a request id (the call log's background batch insert) are collected too.
 */
export interface LoggedError {
  requestId?: string;
  msg: string;
  /** err.type / err.code / err.message, shortened. */
  cause: string;
}

const ERROR_LEVEL = 50;

export class ServerErrorLog {
  private readCursor = 0;
  private readonly byRequest = new Map<string, LoggedError>();
  private readonly unattributed: LoggedError[] = [];

  constructor(private readonly lines: string[]) {}

  /** Reads the log lines written since the last call. */
  private catchUp() {
    for (; this.readCursor < this.lines.length; this.readCursor++) {
      for (const line of this.lines[this.readCursor]!.split("\n")) {
        if (!line.includes('"level":5') && !line.includes('"level":6')) continue;
        let entry: {
          level?: number;
          requestId?: string;
          msg?: string;
          err?: { type?: string; code?: string; message?: string };
        };
        try {
          entry = JSON.parse(line) as typeof entry;
        } catch {
          continue;
        }
        if ((entry.level ?? 0) < ERROR_LEVEL) continue;
        const cause = [entry.err?.type, entry.err?.code, entry.err?.message?.slice(0, 120)].filter(Boolean).join(" ");
        const logged: LoggedError = {
          msg: entry.msg ?? "",
          cause,
          ...(entry.requestId ? { requestId: entry.requestId } : {}),
        };
        if (entry.requestId) this.byRequest.set(entry.requestId, logged);
        else this.unattributed.push(logged);
      }
    }
  }

  forRequest(requestId: string | undefined): LoggedError | undefined {
    this.catchUp();
    return requestId ? this.byRequest.get(requestId) : undefined;
  }

  /** Error lines with no request id, since the last call. */
  takeUnattributed(): LoggedError[] {
    this.catchUp();
    return this.unattributed.splice(0);
  }
}
