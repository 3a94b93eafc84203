import type { Deps } from "../../deps.js";
import { DeadlineExceeded } from "../../time/deadline.js";

/**
 * A caller who heard the polite "unavailable" (routes/vobiz.ts, vobiz-flows.ts): counted as a decision of its own,
 * and again as a deadline miss when it was the time budget that ran out, the call path's objective.
 */
export function countUnavailable(deps: Pick<Deps, "metrics">, endpoint: string, err: unknown): void {
  deps.metrics.callDecisions.inc({ decision: "unavailable", flow: endpoint });
  if (err instanceof DeadlineExceeded) deps.metrics.answerDeadlineMisses.inc({ endpoint });
}
