/**
 * Which cases run for an operation. Generation is exhaustive and deterministic; when an operation has more cases
 * than its share of the request budget, a seeded sample is taken, never dropping baselines or the cases with an
 * explicit expectation (the classes the issue names), and keeping at least one case of every mutation class.
 */
import { apiCases } from "./api-cases.js";
import type { FuzzCase } from "./case.js";
import type { Rng } from "./prng.js";
import type { Operation } from "./spec.js";
import { webhookCases } from "./webhook-cases.js";
import type { FuzzWorld } from "./world.js";

export function generateCases(op: Operation, world: FuzzWorld, rng: Rng): FuzzCase[] {
  return op.security === "vobizSignature"
    ? webhookCases(op, world, rng.fork("webhook"))
    : apiCases(op, world, rng.fork("api"));
}

export function planCases(op: Operation, world: FuzzWorld, rng: Rng, maxCases: number): FuzzCase[] {
  const all = generateCases(op, world, rng);
  if (all.length <= maxCases) return all;
  const keep = new Set<number>();
  const seenKinds = new Set<string>();
  all.forEach((c, i) => {
    if (c.baseline || c.afterBaselines || c.expect || !seenKinds.has(c.kind)) keep.add(i);
    seenKinds.add(c.kind);
  });
  const optional = all.map((_, i) => i).filter((i) => !keep.has(i));
  for (const i of rng.fork("sample").sample(optional, Math.max(0, maxCases - keep.size))) keep.add(i);
  return all.filter((_, i) => keep.has(i));
}
