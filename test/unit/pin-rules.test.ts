/**
 * The PIN rules without I/O (server/src/domain/pin.ts): PIN shape, the PIN space a DID offers, what keyed digits
 * count as, and the lockout: three wrong PINs within 15 minutes lock the caller out for 15 minutes.
 */
import { describe, expect, it } from "vitest";
import {
  afterFailedAttempt,
  afterWrongPin,
  isLockedOut,
  LOCKOUT_MS,
  LOCKOUT_WINDOW_MS,
  newPin,
  pinSessionsPerDid,
  readPinDigits,
  type LockoutState,
} from "../../server/src/domain/pin.js";

const T0 = new Date("2026-06-01T10:00:00Z");
const at = (ms: number) => new Date(T0.getTime() + ms);
const fresh: LockoutState = { failures: [], lockedUntil: null };

describe("PINs", () => {
  it("are digits of the asked length, 4 to 8, and nothing else", () => {
    let n = 0;
    expect(newPin(4, () => n++ % 10)).toBe("0123");
    expect(newPin(8, () => 9)).toBe("99999999");
    for (const length of [3, 9, 4.5]) expect(() => newPin(length, () => 1)).toThrow(RangeError);
  });

  it("leave a DID carrying half its PIN space in sessions (two PINs each)", () => {
    expect(pinSessionsPerDid(4)).toBe(5_000);
    expect(pinSessionsPerDid(6)).toBe(500_000);
  });

  it("are read from the keyed digits with a trailing finish key, and anything else is no input", () => {
    expect(readPinDigits("123456")).toBe("123456");
    expect(readPinDigits("1234#")).toBe("1234");
    for (const raw of [undefined, "", "#", "12", "123456789", "12a4", " 1234", "12*4"]) expect(readPinDigits(raw), String(raw)).toBeNull();
  });
});

describe("the lockout", () => {
  it("locks on the third wrong PIN within the window, for 15 minutes, and starts the count afresh", () => {
    const one = afterWrongPin(fresh, at(0));
    const two = afterWrongPin(one, at(60_000));
    expect(isLockedOut(two, at(60_000))).toBe(false);
    const three = afterWrongPin(two, at(120_000));
    expect(three.lockedUntil).toEqual(at(120_000 + LOCKOUT_MS));
    expect(three.failures).toEqual([]);
    expect(isLockedOut(three, at(120_000 + LOCKOUT_MS - 1))).toBe(true);
    expect(isLockedOut(three, at(120_000 + LOCKOUT_MS))).toBe(false);
  });

  it("forgets wrong PINs older than 15 minutes", () => {
    const one = afterWrongPin(fresh, at(0));
    const two = afterWrongPin(one, at(60_000));
    const late = afterWrongPin(two, at(LOCKOUT_WINDOW_MS + 1));
    expect(late.lockedUntil).toBeNull();
    expect(late.failures).toEqual([at(60_000), at(LOCKOUT_WINDOW_MS + 1)]);
  });

  it("ends a call after its third try, and at once when the wrong PIN locked the caller", () => {
    expect(afterFailedAttempt(1, false)).toEqual({ kind: "retry" });
    expect(afterFailedAttempt(2, false)).toEqual({ kind: "retry" });
    expect(afterFailedAttempt(3, false)).toEqual({ kind: "refuse", decision: "rejected_wrong_pin" });
    expect(afterFailedAttempt(1, true)).toEqual({ kind: "refuse", decision: "rejected_pin_locked" });
  });
});
