import { describe, expect, it } from "vitest";
import { assertPlaceholdersInOrder } from "../../server/src/db/prepared.js";

// The embedded database binds $n by position, so a statement numbered out of order binds the wrong values there.
describe("prepared statement placeholders", () => {
  it("accepts $1…$n in order, each once, with n values", () => {
    expect(() => assertPlaceholdersInOrder("ok", "SELECT $1, $2 WHERE x IN ($3, $4)", 4)).not.toThrow();
    expect(() => assertPlaceholdersInOrder("none", "SELECT 1", 0)).not.toThrow();
  });

  it.each([
    ["out of order", "UPDATE t SET a = $2 WHERE b = $1", 2],
    ["reused", "SELECT $1 WHERE a = $1", 1],
    ["a value too many", "SELECT $1", 2],
    ["a gap", "SELECT $1, $3", 3],
  ])("refuses a statement with placeholders %s, naming it", (_, text, count) => {
    expect(() => assertPlaceholdersInOrder("bad_statement", text, count)).toThrow(/^prepared statement bad_statement: /);
  });
});
