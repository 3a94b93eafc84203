/**
 * Which masking DID a person gets in a new session: a pure decision, no I/O.
 *
 * The invariant (docs/architecture.md, "The allocation invariant") is that a person and a DID meet in at most one active participant row, so
 * the candidates are the pool's DIDs minus the ones this person already holds. Among those, the DID the
 * person had last time wins (people keep seeing the same number); otherwise the choice is random, which
 * spreads load over the pool without any counter that every allocation would have to update.
 */
export interface DidChoiceInput {
  /** Active DID ids of the pool. */
  poolDidIds: readonly string[];
  /** DIDs this person holds in active participant rows right now. */
  heldDidIds: ReadonlySet<string>;
  /** The DID this person had most recently in this tenant, if any. */
  lastDidId: string | null;
  /** DIDs that lost a race in this allocation already (a concurrent session took them). */
  excludedDidIds?: ReadonlySet<string>;
  /**
   * A soft preference: the other participant's DID in the same session. Both may share one DID (routing is
   * by caller and DID), but two different numbers are easier for people to tell apart when both are free.
   */
  avoidDidId?: string | null;
  /** Injected for tests; defaults to Math.random. */
  random?: () => number;
}

export function chooseDid(input: DidChoiceInput): string | null {
  const excluded = input.excludedDidIds ?? new Set<string>();
  const free = input.poolDidIds.filter((id) => !input.heldDidIds.has(id) && !excluded.has(id));
  if (free.length === 0) return null;
  if (input.lastDidId && free.includes(input.lastDidId)) return input.lastDidId;
  const preferred = free.length > 1 && input.avoidDidId ? free.filter((id) => id !== input.avoidDidId) : free;
  const random = input.random ?? Math.random;
  return preferred[Math.floor(random() * preferred.length)] ?? preferred[0]!;
}
