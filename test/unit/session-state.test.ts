import { describe, expect, it } from "vitest";
import { sessionStatusAt } from "../../server/src/domain/session-state.js";

describe("session state", () => {
  const now = new Date("2026-11-24T12:00:00Z");
  const at = (iso: string) => new Date(iso);

  it("reads an open session past expires_at as expired (the sweeper may not have marked it yet)", () => {
    expect(sessionStatusAt({ status: "open", expires_at: at("2026-11-24T11:59:59Z") }, now)).toBe("expired");
    expect(sessionStatusAt({ status: "open", expires_at: now }, now)).toBe("expired");
    expect(sessionStatusAt({ status: "open", expires_at: at("2026-11-24T12:00:01Z") }, now)).toBe("open");
  });

  it("keeps what a closed or expired row says, whatever the clock", () => {
    expect(sessionStatusAt({ status: "closed", expires_at: at("2026-11-24T11:00:00Z") }, now)).toBe("closed");
    expect(sessionStatusAt({ status: "closed", expires_at: at("2026-11-25T11:00:00Z") }, now)).toBe("closed");
    expect(sessionStatusAt({ status: "expired", expires_at: at("2026-11-25T11:00:00Z") }, now)).toBe("expired");
  });
});
