import { describe, expect, it } from "vitest";
import { createConsoleTokens } from "../../server/src/crypto/console-tokens.js";

const master = Buffer.alloc(32, 3);
const now = new Date("2026-01-01T00:00:00Z");

describe("console session tokens", () => {
  it("verifies its own token until it expires, with the session id and scope it was signed with", async () => {
    const tokens = createConsoleTokens(master);
    const token = await tokens.sign({ sessionId: "cs_1", scope: "ten_1" }, now, 1800);
    expect(await tokens.verify(token, new Date(now.getTime() + 1_799_000))).toEqual({
      sessionId: "cs_1",
      scope: "ten_1",
      expiresAt: new Date(now.getTime() + 1_800_000),
    });
    expect(await tokens.verify(token, new Date(now.getTime() + 1_800_000))).toBeNull();
  });

  it("refuses a token signed under another master key, an altered one, one with alg none, and garbage", async () => {
    const tokens = createConsoleTokens(master);
    const other = createConsoleTokens(Buffer.alloc(32, 4));
    const token = await tokens.sign({ sessionId: "cs_1", scope: "ten_1" }, now, 60);
    expect(await other.verify(token, now)).toBeNull();
    const [h, p, s] = token.split(".") as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, "base64url").toString()) as Record<string, unknown>;
    const altered = Buffer.from(JSON.stringify({ ...claims, scope: "ten_2" })).toString("base64url");
    expect(await tokens.verify(`${h}.${altered}.${s}`, now)).toBeNull();
    const none = Buffer.from(JSON.stringify({ alg: "none" })).toString("base64url");
    expect(await tokens.verify(`${none}.${p}.`, now)).toBeNull();
    for (const junk of ["", "a.b.c", "not a token"]) expect(await tokens.verify(junk, now)).toBeNull();
  });

  it("derives each session's CSRF token, checks it in constant time, and keys the operator fingerprint apart from both", async () => {
    const tokens = createConsoleTokens(master);
    const csrf = tokens.csrfToken("cs_1");
    expect(csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(tokens.csrfToken("cs_1")).toBe(csrf);
    expect(tokens.csrfToken("cs_2")).not.toBe(csrf);
    expect(tokens.checkCsrf("cs_1", csrf)).toBe(true);
    for (const wrong of ["", csrf.slice(1), tokens.csrfToken("cs_2"), `${csrf}x`]) expect(tokens.checkCsrf("cs_1", wrong)).toBe(false);
    expect(createConsoleTokens(Buffer.alloc(32, 4)).csrfToken("cs_1")).not.toBe(csrf);
    const fp = tokens.fingerprint("operator-token-0123456789");
    expect(fp).toMatch(/^[0-9a-f]{64}$/);
    expect(fp).not.toBe(tokens.csrfToken("operator-token-0123456789"));
    expect(tokens.fingerprint("operator-token-0123456789x")).not.toBe(fp);
  });
});
