import { readFileSync } from "node:fs";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/harness.js";

const committed = (name: string) => readFileSync(new URL(`../../openapi/generated/${name}`, import.meta.url));

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => server?.stop());

describe("the spec and the reference, served", () => {
  it("serves /openapi.json without credentials, byte for byte the committed openapi/generated/openapi.json", async () => {
    const res = await fetch(`${server.baseUrl}/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(Buffer.from(await res.arrayBuffer()).equals(committed("openapi.json"))).toBe(true);
  });

  it("serves /docs without credentials: the committed reference, under a policy that allows no other host", async () => {
    const res = await fetch(`${server.baseUrl}/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("content-security-policy")).toMatch(/default-src 'none'/);
    expect(res.headers.get("content-security-policy")).not.toMatch(/https?:/);
    expect(Buffer.from(await res.arrayBuffer()).equals(committed("docs.html"))).toBe(true);
  });

  it("answers 304 to a client that already holds this version of either", async () => {
    for (const path of ["/openapi.json", "/docs"]) {
      const first = await fetch(server.baseUrl + path);
      await first.arrayBuffer();
      const etag = first.headers.get("etag");
      expect(etag, path).toMatch(/^"[\w-]+"$/);
      // Not fetch(): a conditional fetch() adds `Cache-Control: no-cache`, which asks for the full body on purpose.
      const again = await request(server.baseUrl + path, { headers: { "if-none-match": etag! } });
      expect(again.statusCode, path).toBe(304);
      expect(await again.body.text(), path).toBe("");
    }
  });

  it("builds a reference whose markup names no other host for a script, a stylesheet, a font or an image", () => {
    const html = committed("docs.html").toString("utf8");
    const external = [
      ...html.matchAll(/<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*["']?(https?:)?\/\/[^"'\s>]+/gi),
      ...html.matchAll(/\bimport\b[^;]{0,200}?\bfrom\s*["']https?:\/\/[^"']+/g),
      ...html.matchAll(/@import\s+(?:url\()?["']?https?:\/\/[^"')]+/g),
      ...html.matchAll(/url\(\s*["']?https?:\/\/[^"')]+/g),
    ].map((m) => m[0]);
    expect(external).toEqual([]);
  });
});
