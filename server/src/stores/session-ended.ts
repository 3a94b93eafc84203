/**
 * "This session has ended", in SQL: the rule of domain/session-state.ts spelled once for every statement. A session
 * has ended when its row is no longer `open` (closed, or marked expired by the sweeper), or when it is still `open`
 * past `expires_at` (the sweeper has not got to it yet, and nothing waits for the sweeper).
 *
 * Fragments rather than a SQL function: each is plain column comparisons, so the planner sees exactly what it would
 * see written inline. A function call in a WHERE clause hides `status = 'open'` from the partial indexes built on it
 * (sessions_open_expiry, sessions_ended_at), and the allocator's prepared statements (stores/sessions.ts) must keep
 * their key-probe plans (test/integration/plan-stability.test.ts).
 *
 * `s` is the alias (or name) of the sessions table in the statement; `now` is a placeholder (`$5`, `?`, `:now`).
 */
import type { Knex } from "knex";
import type { SessionStatus } from "../domain/session-state.js";

/** Still connecting calls at `now`. */
export function sessionLiveSql(s: string, now: string): string {
  return `(${s}.status = 'open' AND ${s}.expires_at > ${now})`;
}

/** Ended at `now`: the negation of sessionLiveSql. */
export function sessionEndedSql(s: string, now: string): string {
  return `(${s}.status <> 'open' OR ${s}.expires_at <= ${now})`;
}

/** Ended by the clock while its row still says `open`: what the sweeper marks expired (on sessions_open_expiry). */
export function sessionLapsedSql(s: string, now: string): string {
  return `(${s}.status = 'open' AND ${s}.expires_at <= ${now})`;
}

/** Recorded as ended (closed, or expired by the sweeper): the rows on the partial index sessions_ended_at. */
export function sessionMarkedEndedSql(s: string): string {
  return `${s}.status <> 'open'`;
}

/** When a session recorded as ended ended: its close, else its expiry (the expression sessions_ended_at is on). */
export function sessionEndedAtSql(s: string): string {
  return `coalesce(${s}.closed_at, ${s}.expires_at)`;
}

/** Narrows `q` to the sessions whose status callers see at `now` (sessionStatusAt) is `status`. */
export function whereSessionStatusAt(q: Knex.QueryBuilder, s: string, status: SessionStatus, now: Date): Knex.QueryBuilder {
  if (status === "open") return q.whereRaw(sessionLiveSql(s, "?"), [now]);
  if (status === "closed") return q.whereRaw(`${s}.status = 'closed'`);
  return q.whereRaw(`(${s}.status = 'expired' OR ${sessionLapsedSql(s, "?")})`, [now]);
}
