/**
 * A timestamp in a query is either a real instant or a 422: never something the schema accepts that Date cannot
 * hold (a handler would then work with an Invalid Date).
 */
import { describe, expect, it } from "vitest";
import { operationsById, type OperationId } from "../../server/src/http/openapi.js";

const validateQuery = (id: OperationId, query: Record<string, unknown>) => operationsById.get(id)!.validateQuery({ ...query });

describe("query timestamps", () => {
  it.each([
    ["2026-06-30T23:59:60Z", "a leap second"],
    ["2026-02-30T10:00:00Z", "a day the month does not have"],
    ["2026-06-30T24:00:00Z", "hour 24"],
    ["2026-06-30", "a date without a time"],
    ["yesterday", "words"],
  ])("refuses %s (%s)", (since) => {
    expect(validateQuery("calls.list", { since })).toEqual([expect.objectContaining({ path: "/query/since" })]);
    expect(validateQuery("usage.get", { since })).toEqual([expect.objectContaining({ path: "/query/since" })]);
  });

  it.each(["2026-06-30T10:00:00Z", "2026-06-30T10:00:00.123+05:30", "2024-02-29T00:00:00Z"])("accepts %s as the instant Date reads", (since) => {
    expect(validateQuery("calls.list", { since, until: since })).toEqual([]);
    expect(Number.isNaN(Date.parse(since))).toBe(false);
  });
});
