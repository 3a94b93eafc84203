import type { Deps } from "../deps.js";
import { expireSessions, purgeExpiredData } from "./sweeper.js";

/** Retention is counted in days: purging hourly is plenty, and keeps its work away from the hot paths. */
const PURGE_EVERY_MS = 3600_000;

export interface Jobs {
  stop(): Promise<void>;
}

/** Background jobs of this replica. Each takes a Postgres advisory lock so one replica runs it at a time. */
export function startJobs(deps: Deps): Jobs {
  let running: Promise<unknown> | null = null;
  let lastPurge = 0;
  const pass = async () => {
    const expired = await expireSessions(deps);
    if (expired) deps.logger.info({ expired }, "sweeper: sessions expired");
    if (Date.now() - lastPurge >= PURGE_EVERY_MS) {
      lastPurge = Date.now();
      const purged = await purgeExpiredData(deps);
      if (purged && (purged.sessions || purged.calls)) deps.logger.info({ purged }, "sweeper: data past retention purged");
    }
  };
  const tick = () => {
    if (running) return; // never overlap with a slow previous pass
    running = pass()
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
