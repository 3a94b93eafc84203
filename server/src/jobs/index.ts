import type { Deps } from "../deps.js";
import { sweep } from "./sweeper.js";

export interface Jobs {
  stop(): Promise<void>;
}

/** Background jobs of this replica. Each takes a Postgres advisory lock so one replica runs it at a time. */
export function startJobs(deps: Deps): Jobs {
  let running: Promise<unknown> | null = null;
  const tick = () => {
    if (running) return; // never overlap with a slow previous pass
    running = sweep(deps)
      .then((r) => {
        if (r.expired || r.purged.sessions || r.purged.calls) deps.logger.info({ sweep: r }, "sweeper pass");
      })
      .catch((err: unknown) => deps.logger.warn({ err }, "sweeper pass failed"))
      .finally(() => (running = null));
  };
  const timer = setInterval(tick, deps.config.sweepIntervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
