/**
 * Phone numbers used by the bench, in disjoint ranges of valid Indian mobile numbers (libphonenumber's `max`
 * metadata accepts all of them, so the server's normalisation keeps them as they are):
 *   DIDs                    +91 9000 xxxxxx
 *   preloaded people        +91 98 xxxxxxxx   (counter carried across scale levels)
 *   people of create runs   +91 97 xxxxxxxx   (counter carried across runs; drivers come from it too)
 */
export const didNumber = (i: number) => `+919000${String(i).padStart(6, "0")}`;
export const PRELOAD_PREFIX = "+9198";
export const CREATE_PREFIX = "+9197";
export const PERSON_DIGITS = 8;
export const person = (prefix: string, i: number) => `${prefix}${String(i).padStart(PERSON_DIGITS, "0")}`;

/** Small deterministic PRNG (mulberry32): the same seed gives the same population on every run. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
