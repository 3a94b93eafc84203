/**
 * One time budget shared by every awaited I/O step of a request. The carrier drops a call it gets no XML for within
 * 1–2 s, so a slow dependency must turn into a deliberate reply inside that, not into a driver's own 5 s timeout.
 */
export class DeadlineExceeded extends Error {
  override name = "DeadlineExceeded";
}

export interface Deadline {
  remainingMs(): number;
  /** Resolves with `work`, or rejects with DeadlineExceeded once the budget is spent (the work is abandoned). */
  run<T>(work: PromiseLike<T>): Promise<T>;
  /** Like run, but gives `work` at most `capMs` of the budget: for a step that has a slower fallback behind it. */
  runCapped<T>(work: PromiseLike<T>, capMs: number): Promise<T>;
}

function race<T>(work: PromiseLike<T>, ms: number, what: string): Promise<T> {
  // Promise.resolve starts a knex builder (a thenable); the catch keeps an abandoned query from surfacing later as
  // an unhandled rejection.
  const started = Promise.resolve(work);
  started.catch(() => undefined);
  if (ms <= 0) return Promise.reject(new DeadlineExceeded(what));
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineExceeded(what)), ms);
  });
  return Promise.race([started, expired]).finally(() => clearTimeout(timer));
}

export function startDeadline(budgetMs: number, now: () => number = () => performance.now()): Deadline {
  const endsAt = now() + budgetMs;
  const remainingMs = () => Math.max(0, endsAt - now());
  return {
    remainingMs,
    run: (work) => race(work, remainingMs(), `deadline of ${budgetMs} ms spent`),
    runCapped: (work, capMs) => race(work, Math.min(capMs, remainingMs()), `step took more than ${capMs} ms`),
  };
}

/** A bounded wait outside a request's deadline (background work, a fail-open check). */
export function withTimeout<T>(work: PromiseLike<T>, ms: number): Promise<T> {
  return race(work, ms, `timed out after ${ms} ms`);
}
