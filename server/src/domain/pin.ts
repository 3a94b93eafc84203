/**
 * Single-number PIN sessions (docs/call-flows.md, "PIN sessions"), the rules without I/O: what a PIN looks like,
 * how many sessions a DID carries, how many tries a call gets, and when a caller is locked out of a DID.
 *
 * The lockout is per (DID, caller): three wrong PINs within 15 minutes lock that caller out of that DID for 15
 * minutes. It counts wrong PINs, not calls, so a caller cannot reset it by hanging up and calling again, and
 * it never locks out the DID for anyone else (a stranger guessing cannot deny service to the real participants).
 */
export const MIN_PIN_LENGTH = 4;
export const MAX_PIN_LENGTH = 8;
/** Prompts per call, the first included; after the last wrong one the call ends politely. */
export const PIN_ATTEMPTS_PER_CALL = 3;
export const LOCKOUT_FAILURES = 3;
export const LOCKOUT_WINDOW_MS = 15 * 60_000;
export const LOCKOUT_MS = 15 * 60_000;

/** A PIN of `length` digits, each from `randomDigit` (0–9, uniform: crypto's randomInt in production). */
export function newPin(length: number, randomDigit: () => number): string {
  if (!Number.isInteger(length) || length < MIN_PIN_LENGTH || length > MAX_PIN_LENGTH) {
    throw new RangeError(`PIN length must be ${MIN_PIN_LENGTH}-${MAX_PIN_LENGTH}, got ${length}`);
  }
  let pin = "";
  for (let i = 0; i < length; i++) pin += String(randomDigit());
  return pin;
}

/** PIN sessions one DID can carry at a PIN length: each session takes two of its 10^length PINs. */
export function pinSessionsPerDid(length: number): number {
  return Math.floor(10 ** length / 2);
}

/**
 * The digits a Gather collected, as a PIN to look up: digits only (a carrier may pass the finish key along), at
 * most MAX_PIN_LENGTH of them; null for no input or anything that cannot be a PIN.
 */
export function readPinDigits(raw: string | undefined): string | null {
  const digits = (raw ?? "").replace(/[#*]+$/, "");
  if (!/^[0-9]+$/.test(digits)) return null;
  if (digits.length < MIN_PIN_LENGTH || digits.length > MAX_PIN_LENGTH) return null;
  return digits;
}

export interface LockoutState {
  /** The wrong PINs still counting (within the window), oldest first. */
  failures: Date[];
  lockedUntil: Date | null;
}

export function isLockedOut(state: LockoutState, now: Date): boolean {
  return state.lockedUntil !== null && state.lockedUntil.getTime() > now.getTime();
}

/** The state after one more wrong PIN at `now`: older failures fall out of the window; the third locks. */
export function afterWrongPin(state: LockoutState, now: Date): LockoutState {
  const since = now.getTime() - LOCKOUT_WINDOW_MS;
  const failures = [...state.failures.filter((at) => at.getTime() > since), now].slice(-LOCKOUT_FAILURES);
  const locks = failures.length >= LOCKOUT_FAILURES;
  return {
    // A lockout starts the count afresh once it ends: the failures that caused it do not count twice.
    failures: locks ? [] : failures,
    lockedUntil: locks ? new Date(now.getTime() + LOCKOUT_MS) : state.lockedUntil,
  };
}

/** What a call's PIN attempt comes to once the PIN has been looked up. */
export type PinVerdict =
  | { kind: "bridge" }
  | { kind: "retry" }
  | { kind: "refuse"; decision: "rejected_wrong_pin" | "rejected_pin_locked" }
  /** The PIN was right but the session cannot be used (closed, expired, one-way from the other side). */
  | { kind: "ended"; decision: "rejected_session_closed" | "rejected_session_expired" | "rejected_one_way" };

/**
 * After a wrong PIN (or no input): another prompt while the call has attempts left, else the polite end. A caller
 * the wrong PIN just locked out is told so at once.
 */
export function afterFailedAttempt(attempt: number, lockedNow: boolean): PinVerdict {
  if (lockedNow) return { kind: "refuse", decision: "rejected_pin_locked" };
  return attempt < PIN_ATTEMPTS_PER_CALL ? { kind: "retry" } : { kind: "refuse", decision: "rejected_wrong_pin" };
}
