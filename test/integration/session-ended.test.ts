/**
 * "This session has ended" is written once in TypeScript (domain/session-state.ts) and once in SQL
 * (stores/session-ended.ts): the two must agree on every row, at the expiry instant too, on the real database.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/harness.js";
import { sessionStatusAt, type SessionStatus } from "../../server/src/domain/session-state.js";
import {
  sessionEndedSql,
  sessionLapsedSql,
  sessionLiveSql,
  whereSessionStatusAt,
} from "../../server/src/stores/session-ended.js";

const NOW = new Date("2026-06-01T12:00:00.000Z");
const ROWS = (["open", "closed", "expired"] as const).flatMap((status) =>
  [-60_000, -1, 0, 1, 60_000].map((offsetMs, i) => ({
    id: `${status}_${i}`,
    status,
    expires_at: new Date(NOW.getTime() + offsetMs),
  })),
);

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

function rowsTable() {
  const db = server.deps.db;
  const values = ROWS.map(() => "(?, ?, ?::timestamptz)").join(", ");
  return db.raw(`(VALUES ${values}) AS s (id, status, expires_at)`, ROWS.flatMap((r) => [r.id, r.status, r.expires_at]));
}

describe("the SQL spelling of a session's end agrees with sessionStatusAt", () => {
  it("live, ended and lapsed, row by row", async () => {
    const found = await server.deps.db
      .select(
        "s.id",
        server.deps.db.raw(`${sessionLiveSql("s", "?")} AS live`, [NOW]),
        server.deps.db.raw(`${sessionEndedSql("s", "?")} AS ended`, [NOW]),
        server.deps.db.raw(`${sessionLapsedSql("s", "?")} AS lapsed`, [NOW]),
      )
      .from(rowsTable());
    expect(found).toHaveLength(ROWS.length);
    for (const row of ROWS) {
      const sql = found.find((f: { id: string }) => f.id === row.id) as { live: boolean; ended: boolean; lapsed: boolean };
      const status = sessionStatusAt(row, NOW);
      expect({ id: row.id, ...sql }).toEqual({
        id: row.id,
        live: status === "open",
        ended: status !== "open",
        lapsed: row.status === "open" && status === "expired",
      });
    }
  });

  it("each status filter selects exactly the rows that read that status", async () => {
    for (const status of ["open", "closed", "expired"] as SessionStatus[]) {
      const found = await whereSessionStatusAt(server.deps.db.select("s.id").from(rowsTable()), "s", status, NOW);
      const expected = ROWS.filter((r) => sessionStatusAt(r, NOW) === status).map((r) => r.id);
      expect(found.map((f: { id: string }) => f.id).sort()).toEqual(expected.sort());
    }
  });
});
