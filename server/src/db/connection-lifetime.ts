/**
 * How long a pooled Postgres connection lives, by how old the pool was when it opened it.
 *
 * The hot statements are prepared per connection, and Postgres keeps each one's generic plan (and the plans of its
 * own foreign-key checks) for the life of the backend, made from what the planner knew then. On a database that
 * starts empty, "then" is tables of a few pages, where every index led by tenant_id estimates one row and ties with
 * the index a probe is written for; a tie can go to the wrong one, and that plan walks the tenant's rows once the
 * tables have grown (the bench's growth phase measured a create reading 12,000 → 72,000 rows that way). Plans made
 * again once a table is past a few pages tell the indexes apart, statistics or not. So a connection is retired after
 * half the pool's age at its birth (at least MIN, at most MAX), and the next one plans afresh: while a database fills
 * in its first minutes plans are remade every few seconds, later every ten minutes at most, at the price of one
 * connection set-up per connection per lifetime. Jitter keeps the pool's connections from all retiring at once.
 */
export const MIN_CONNECTION_LIFETIME_MS = 5_000;
export const MAX_CONNECTION_LIFETIME_MS = 600_000;
const JITTER = 0.2;

export function connectionLifetimeMs(poolAgeMs: number, random: () => number = Math.random): number {
  const base = Math.min(MAX_CONNECTION_LIFETIME_MS, Math.max(MIN_CONNECTION_LIFETIME_MS, poolAgeMs / 2));
  return Math.round(base * (1 - JITTER / 2 + JITTER * random()));
}
