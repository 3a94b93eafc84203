/**
 * Text no handler should ever see: a NUL (U+0000), which Postgres cannot store in text or jsonb, and a lone UTF-16
 * surrogate (JSON's `"\ud800"`), which is not a character at all and which Postgres refuses or silently turns into
 * U+FFFD depending on the column. Found once, at the edge, and reported by where it is, never by what it is: the
 * value may be a phone number or anything else the caller would not want echoed.
 */
import type { FieldError } from "../errors.js";

const NUL = "\u0000";
// Enough to show the caller the pattern; a 64 kB body of bad strings does not need 10,000 entries back.
const MAX_ERRORS = 20;

function problemOf(text: string): string | null {
  if (text.includes(NUL)) return "contains a NUL character (U+0000)";
  if (!text.isWellFormed()) return "contains an unpaired UTF-16 surrogate";
  return null;
}

// JSON Pointer (RFC 6901) escaping, the form every other validation error's path uses.
const pointerSegment = (key: string) => key.replaceAll("~", "~0").replaceAll("/", "~1");

/**
 * Every string in `value` (object keys included, at any depth) that contains a NUL or a lone surrogate, as field
 * errors under `prefix` (`/body`, `/query`, `/path`). A bad key is reported at its parent's path, since naming it would
 * echo it. Iterative, so a deeply nested body cannot overflow the stack.
 */
export function unstorableTextErrors(prefix: string, value: unknown): FieldError[] {
  const errors: FieldError[] = [];
  const pending: Array<{ path: string; value: unknown }> = [{ path: prefix, value }];
  while (pending.length > 0 && errors.length < MAX_ERRORS) {
    const { path, value: current } = pending.pop()!;
    if (typeof current === "string") {
      const message = problemOf(current);
      if (message) errors.push({ path, message });
      continue;
    }
    if (current === null || typeof current !== "object") continue;
    if (Array.isArray(current)) {
      current.forEach((item, i) => pending.push({ path: `${path}/${i}`, value: item }));
      continue;
    }
    for (const [key, item] of Object.entries(current as Record<string, unknown>)) {
      const keyProblem = problemOf(key);
      if (keyProblem) {
        errors.push({ path, message: `has a property name that ${keyProblem}` });
        continue;
      }
      pending.push({ path: `${path}/${pointerSegment(key)}`, value: item });
    }
  }
  // The walk's own order depends on its stack; sorted by path, the answer is the same for the same body.
  return errors.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
