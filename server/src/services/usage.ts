/**
 * A tenant's usage: live sessions and active numbers now, and calls since a time by decision (why calls were
 * refused, at a glance). The same figures for the tenant (GET /v1/usage) and for the operator about a tenant.
 */
import { CALL_DECISION_VALUES } from "@maskline/openapi/constants";
import type { Deps } from "../deps.js";
import { validationFailed } from "../errors.js";
import * as store from "../stores/usage.js";
import { iso, type Schemas } from "./shapes.js";

const DAY_MS = 86_400_000;
/**
 * The furthest back `since` may reach. The console asks for today or this week; a count over years of a large
 * tenant's calls would be a long scan on every page load (retention can keep them that long).
 */
export const USAGE_MAX_DAYS = 31;

export async function getUsage(deps: Pick<Deps, "db" | "clock">, tenantId: string, since?: string): Promise<Schemas["Usage"]> {
  const now = deps.clock.now();
  const from = since === undefined ? new Date(now.getTime() - DAY_MS) : new Date(since);
  if (Number.isNaN(from.getTime())) throw validationFailed([{ path: "/query/since", message: "must be a date-time" }]);
  if (now.getTime() - from.getTime() > USAGE_MAX_DAYS * DAY_MS) {
    throw validationFailed([{ path: "/query/since", message: `must be within the last ${USAGE_MAX_DAYS} days` }]);
  }
  const [decisions, liveSessions, numbers] = await Promise.all([
    store.callsByDecisionSince(deps.db, tenantId, from),
    store.liveSessionCount(deps.db, tenantId, now),
    store.activeNumberCount(deps.db, tenantId),
  ]);
  const byDecision = Object.fromEntries(CALL_DECISION_VALUES.map((d) => [d, 0])) as Schemas["Usage"]["calls"]["byDecision"];
  let total = 0;
  for (const { decision, n } of decisions) {
    if (decision in byDecision) byDecision[decision as keyof typeof byDecision] = n;
    total += n;
  }
  return { since: iso(from), liveSessions, numbers, calls: { total, byDecision } };
}
