import { describe, expect, it } from "vitest";
import { maskNumber, normalizeNumber } from "../../server/src/phone/numbers.js";

describe("normalizeNumber", () => {
  it.each([
    ["+919888800001", "IN"],
    ["919888800001", "IN"], // carrier style: country code without "+"
    ["09888800001", "IN"], // national with trunk prefix
    ["98888 00001", "IN"],
    ["9888800001", "IN"],
    ["+91 (98888) 00-001", "IN"],
    ["0091 98888 00001", "IN"], // international dialling prefix
    ["919888800001", "US"], // too long for a US national number: read as international
    ["+919888800001", "US"],
  ])("%s (default %s) → +919888800001", (input, country) => {
    expect(normalizeNumber(input, country)).toBe("+919888800001");
  });

  it("accepts the numbers used in test setups as valid under the max metadata", () => {
    expect(normalizeNumber("+919000000001", "IN")).toBe("+919000000001");
    expect(normalizeNumber("+919000000002", "US")).toBe("+919000000002");
    expect(normalizeNumber("9000000001", "in")).toBe("+919000000001"); // country code is case-insensitive
  });

  it("handles US numbers, national and international", () => {
    expect(normalizeNumber("+14155551234", "IN")).toBe("+14155551234");
    expect(normalizeNumber("+1 (415) 555-1234", "US")).toBe("+14155551234");
    expect(normalizeNumber("415-555-1234", "US")).toBe("+14155551234");
    expect(normalizeNumber("1 415 555 1234", "US")).toBe("+14155551234");
    expect(normalizeNumber("14155551234", "IN")).toBe("+14155551234"); // invalid in India, valid with "+"
  });

  it("prefers the national reading when the digits fit a national number", () => {
    // "+9888800001" would be Iran (+98); as an Indian national number it is a valid mobile.
    expect(normalizeNumber("9888800001", "IN")).toBe("+919888800001");
  });

  it("returns null for anything that is not a valid number", () => {
    for (const input of ["", "abc", "12345", "+15555550100", "1-800-FLOWERS", "+91 98888 00001 ext 5", "+0919888800001", "++919888800001", "9".repeat(30)]) {
      expect(normalizeNumber(input, "IN")).toBeNull();
    }
    expect(normalizeNumber(undefined as unknown as string, "IN")).toBeNull();
  });

  it("with an unknown default country, only accepts international numbers", () => {
    expect(normalizeNumber("9888800001", "XX")).toBeNull();
    expect(normalizeNumber("+919888800001", "XX")).toBe("+919888800001");
    expect(normalizeNumber("919888800001", "")).toBe("+919888800001");
  });
});

describe("maskNumber", () => {
  it("keeps the country calling code and last four digits, same length", () => {
    expect(maskNumber("+919888800001")).toBe("+91******0001");
    expect(maskNumber("+14155551234")).toBe("+1******1234");
    expect(maskNumber("+919000000002")).toHaveLength("+919000000002".length);
    expect(maskNumber("+447911123456")).toBe("+44******3456");
  });

  it("never throws and returns *** for anything that is not an E.164 number with digits to hide", () => {
    for (const input of ["", "919888800001", "+12", "+999999999999", "hello", "+91 98888 00001", null, undefined, 42, {}]) {
      expect(maskNumber(input as unknown as string)).toBe("***");
    }
  });
});
