import { describe, expect, it } from "vitest";
import { loadConfig, parseRedisUrl } from "../../server/src/config.js";

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
    expect(loadConfig({ DATABASE_URL: "postgres://localhost/x", MASKLINE_MASTER_KEY: key, MASKLINE_SIGNING_KEY: key }).databaseUrl).toBe(
      "postgres://localhost/x",
    );
  });

  it("opens GET /metrics in embedded mode, closes it on Postgres, and asks for the token wherever one is set", () => {
    const pg = { DATABASE_URL: "postgres://localhost/x", MASKLINE_MASTER_KEY: key, MASKLINE_SIGNING_KEY: key };
    const token = "metrics-token-0123456789";
    expect(loadConfig({}).metricsAccess).toEqual({ kind: "open" });
    expect(loadConfig(pg).metricsAccess).toEqual({ kind: "closed" });
    expect(loadConfig({ ...pg, MASKLINE_METRICS_TOKEN: token }).metricsAccess).toEqual({ kind: "token", token });
    expect(loadConfig({ MASKLINE_METRICS_TOKEN: token }).metricsAccess).toEqual({ kind: "token", token });
    expect(() => loadConfig({ MASKLINE_METRICS_TOKEN: "short" })).toThrow(/MASKLINE_METRICS_TOKEN/);
  });

  it("reads the web console's build folder and sign-in limit, refusing a limit that is not a whole number", () => {
    expect(loadConfig({})).toMatchObject({ consoleDir: undefined, consoleSignInAttempts: 10 });
    expect(loadConfig({ MASKLINE_CONSOLE_DIR: " /srv/console ", MASKLINE_CONSOLE_SIGN_IN_ATTEMPTS: "0" })).toMatchObject({
      consoleDir: "/srv/console",
      consoleSignInAttempts: 0,
    });
    for (const bad of ["-1", "2.5", "ten", "10001"]) {
      expect(() => loadConfig({ MASKLINE_CONSOLE_SIGN_IN_ATTEMPTS: bad })).toThrow(/^invalid configuration: MASKLINE_CONSOLE_SIGN_IN_ATTEMPTS /);
    }
  });

  it("refuses DATABASE_URL without MASKLINE_SIGNING_KEY: every replica must sign events with the same key", () => {
    expect(() => loadConfig({ DATABASE_URL: "postgres://localhost/x", MASKLINE_MASTER_KEY: key })).toThrow(
      /^invalid configuration: MASKLINE_SIGNING_KEY is required[^\n]*$/,
    );
  });

  it("reads MASKLINE_SIGNING_KEY as comma-separated [kid:]seed entries, the first one signing", () => {
    const other = Buffer.alloc(32, 3).toString("base64");
    const keys = loadConfig({ MASKLINE_SIGNING_KEY: `2026-12:${key}, ${other}` }).signingKeys;
    expect(keys).toEqual([
      { kid: "2026-12", seed: key },
      { kid: undefined, seed: other },
    ]);
    expect(() => loadConfig({ MASKLINE_SIGNING_KEY: "c2hvcnQ=" })).toThrow(/^invalid configuration: MASKLINE_SIGNING_KEY entry 1/);
    expect(() => loadConfig({ MASKLINE_SIGNING_KEY: `a:${key},a:${other}` })).toThrow(/same key id twice/);
  });

  it.each([
    [{ PORT: "abc" }, "PORT"],
    [{ PORT: "70000" }, "PORT"],
    [{ MASKLINE_MASTER_KEY: "c2hvcnQ=" }, "MASKLINE_MASTER_KEY"],
    [{ DATABASE_URL: "mysql://x" }, "DATABASE_URL"],
    [{ REDIS_URL: "http://x" }, "REDIS_URL"],
    [{ REDIS_URL: "redis://" }, "REDIS_URL"],
    [{ REDIS_URL: "redis+cluster://" }, "REDIS_URL"],
    [{ REDIS_URL: "redis+cluster://127.0.0.1:30001/3" }, "REDIS_URL"], // a cluster has only database 0
    [{ REDIS_URL: "redis+cluster://127.0.0.1" }, "REDIS_URL"], // no port
    [{ REDIS_URL: "redis+cluster://127.0.0.1:70000" }, "REDIS_URL"],
    [{ REDIS_URL: "redis+cluster://127.0.0.1:30001,,127.0.0.1:30002" }, "REDIS_URL"],
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

describe("REDIS_URL", () => {
  it("keeps a single server's URL whole, for ioredis to read (db, TLS, credentials)", () => {
    const c = loadConfig({ REDIS_URL: "rediss://u:p@cache.internal:6380/2" });
    expect(c.redisUrl).toBe("rediss://u:p@cache.internal:6380/2");
    expect(c.redis).toEqual({ kind: "single", url: "rediss://u:p@cache.internal:6380/2" });
  });

  it("reads a redis+cluster:// URL as seed nodes plus the credentials and TLS they share", () => {
    expect(loadConfig({ REDIS_URL: "redis+cluster://127.0.0.1:30001,127.0.0.1:30002, node-3.internal:30003/" }).redis).toEqual({
      kind: "cluster",
      nodes: [
        { host: "127.0.0.1", port: 30001 },
        { host: "127.0.0.1", port: 30002 },
        { host: "node-3.internal", port: 30003 },
      ],
      username: undefined,
      password: undefined,
      tls: false,
    });
    expect(parseRedisUrl("rediss+cluster://maskline:p%40ss:w@rd@[::1]:7000/0")).toEqual({
      kind: "cluster",
      nodes: [{ host: "::1", port: 7000 }],
      username: "maskline",
      password: "p@ss:w@rd",
      tls: true,
    });
    expect(parseRedisUrl("redis+cluster://:only-a-password@10.0.0.1:6379")).toMatchObject({ username: undefined, password: "only-a-password" });
  });

  it.each([
    "redis+cluster://user:s3cret@127.0.0.1",
    "redis+cluster://user:s3cret@127.0.0.1:1/5",
    "redis://user:s3cret@[bad",
    "redis+cluster://user:%E0%A4%A@127.0.0.1:1",
  ])("refuses %s in one line that does not echo the password", (url) => {
    let message = "";
    try {
      loadConfig({ REDIS_URL: url });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^invalid configuration: REDIS_URL [^\n]+$/);
    expect(message).not.toContain("s3cret");
  });
});
