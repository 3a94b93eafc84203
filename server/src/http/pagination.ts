import { SCHEMA_LIMITS } from "@maskline/openapi/constants";
import { validationFailed } from "../errors.js";

/** The longest sort key a cursor carries: an id (ResourceId); a pool name (PoolName) is shorter. */
const MAX_CURSOR_KEY = SCHEMA_LIMITS.ResourceId.maxLength;

/**
 * Opaque keyset cursor: the sort key of the last row served; for most lists its id (ids are time-sortable, so
 * newest-first = id desc), for pools their name.
 */
export function encodeCursor(lastId: string): string {
  return Buffer.from(JSON.stringify({ after: lastId }), "utf8").toString("base64url");
}

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as { after?: unknown };
    if (typeof parsed.after === "string" && parsed.after.length > 0 && parsed.after.length <= MAX_CURSOR_KEY) return parsed.after;
  } catch {
    // fall through to the validation error
  }
  throw validationFailed([{ path: "/query/cursor", message: "is not a cursor this API issued" }]);
}

/** Callers fetch limit + 1 rows; the extra row only tells whether another page exists. */
export function toPageBy<Row, Out>(rows: Row[], limit: number, keyOf: (row: Row) => string, shape: (row: Row) => Out) {
  const hasMore = rows.length > limit;
  const pageRows = hasMore ? rows.slice(0, limit) : rows;
  const last = pageRows[pageRows.length - 1];
  return { data: pageRows.map(shape), nextCursor: hasMore && last !== undefined ? encodeCursor(keyOf(last)) : null };
}

/** toPageBy for rows keyed by their id. */
export function toPage<Row extends { id: string }, Out>(rows: Row[], limit: number, shape: (row: Row) => Out) {
  return toPageBy(rows, limit, (row) => row.id, shape);
}
