/**
 * When a session has ended: the one rule, in TypeScript (the SQL spelling of the same rule is in
 * stores/session-ended.ts). A session ends when it is closed, or when its time is up: a row still saying `open`
 * past `expires_at` has ended, because the sweeper that marks it `expired` may lag and nothing may wait for it.
 */
import type { components } from "@maskline/openapi/schema";

export type SessionStatus = components["schemas"]["SessionStatus"];

export interface SessionClock {
  status: SessionStatus;
  expires_at: Date;
}

/** The status callers see at `now`: an open row past its expiry reads `expired`. It has ended unless this is `open`. */
export function sessionStatusAt(row: SessionClock, now: Date): SessionStatus {
  if (row.status === "open" && row.expires_at.getTime() <= now.getTime()) return "expired";
  return row.status;
}
