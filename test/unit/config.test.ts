import { describe, expect, it } from "vitest";
import { loadConfig } from "../../server/src/config.js";

const key = Buffer.alloc(32, 1).toString("base64");

describe("loadConfig", () => {
  it("applies the documented defaults", () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ port: 8080, dataDir: "./.maskline", publicBaseUrl: "http://localhost:8080", logLevel: "info", rateLimitPerSecond: 500 });
    expect(c.databaseUrl).toBeUndefined();
    expect(c.redisUrl).toBeUndefined();
    expect(Object.isFrozen(c)).toBe(true);
  });

  it("derives PUBLIC_BASE_URL from PORT and drops a trailing slash", () => {
    expect(loadConfig({ PORT: "9000" }).publicBaseUrl).toBe("http://localhost:9000");
    expect(loadConfig({ PUBLIC_BASE_URL: "https://mask.example.com/" }).publicBaseUrl).toBe("https://mask.example.com");
    expect(loadConfig({ PORT: "0", PUBLIC_BASE_URL: "http://127.0.0.1:7000" }).publicBaseUrl).toBe("http://127.0.0.1:7000");
  });

  it("refuses DATABASE_URL without MASKLINE_MASTER_KEY, naming the variable in one line", () => {
    expect(() => loadConfig({ DATABASE_URL: "postgres://localhost/x" })).toThrow(/^invalid configuration: MASKLINE_MASTER_KEY is required[^\n]*$/);
    expect(loadConfig({ DATABASE_URL: "postgres://localhost/x", MASKLINE_MASTER_KEY: key }).databaseUrl).toBe("postgres://localhost/x");
  });

  it.each([
    [{ PORT: "abc" }, "PORT"],
    [{ PORT: "70000" }, "PORT"],
    [{ MASKLINE_MASTER_KEY: "c2hvcnQ=" }, "MASKLINE_MASTER_KEY"],
    [{ DATABASE_URL: "mysql://x" }, "DATABASE_URL"],
    [{ REDIS_URL: "http://x" }, "REDIS_URL"],
    [{ LOG_LEVEL: "loud" }, "LOG_LEVEL"],
    [{ PUBLIC_BASE_URL: "not a url" }, "PUBLIC_BASE_URL"],
    [{ PORT: "0" }, "PUBLIC_BASE_URL"], // webhook URLs would name port 0
    [{ MASKLINE_ADMIN_TOKEN: "short" }, "MASKLINE_ADMIN_TOKEN"],
    [{ MASKLINE_RATE_LIMIT_PER_SECOND: "-1" }, "MASKLINE_RATE_LIMIT_PER_SECOND"],
    [{ MASKLINE_RATE_LIMIT_PER_SECOND: "lots" }, "MASKLINE_RATE_LIMIT_PER_SECOND"],
  ])("rejects %j naming %s", (env, name) => {
    expect(() => loadConfig(env)).toThrow(new RegExp(`^invalid configuration: ${name} `));
  });
});
