/**
 * Cases for one tenant or operator operation: valid baselines from its schemas, then one mutation at a time of the
 * body's properties, the body as a whole and its encoding, the query, the path ids, the credentials and the
 * HTTP framing.
 */
import { gzipSync } from "node:zlib";
import type { FuzzCase } from "./case.js";
import {
  ENCODING_IS_4XX,
  HUGE_HEADERS_ARE_431,
  MALFORMED_HTTP_IS_4XX,
  NUL_IS_4XX,
  OVER_LIMIT_IS_413,
  show,
} from "./case.js";
import type { Rng } from "./prng.js";
import type { Operation, Parameter } from "./spec.js";
import { resolveSchema } from "./spec.js";
import { RawJson, deleteAt, getAt, pointersOf, setAt, toJsonText, validValue } from "./schema-values.js";
import {
  ARRAY_EDGES,
  ENCODED_TEXT_EDGES,
  NUMBER_EDGES,
  OBJECT_EDGES,
  STRING_EDGES,
  TYPE_SWAPS,
  deepArray,
  deepObject,
  jsTypeOf,
  swapType,
  type EdgeValue,
} from "./edge-values.js";
import { buildApiRequest, replaceHeader, withParts, type ApiParts } from "./api-parts.js";
import { bodyHints, pathTarget, queryHint } from "./api-targets.js";
import type { FuzzWorld } from "./world.js";

/** The properties whose values land in jsonb columns, where Postgres refuses what a text column would coerce. */
const JSON_COLUMN_PROPERTIES = ["/metadata", "/messages"];
const BODY_LIMIT_BYTES = 64 * 1024;

interface Builder {
  op: Operation;
  base: ApiParts;
  cases: FuzzCase[];
  /** Rewrites each case's body before it is sent (see freshPeople). */
  freshen?: (body: Buffer) => Buffer;
}

function add(b: Builder, c: Omit<FuzzCase, "operationId" | "surface" | "request">, parts: ApiParts) {
  const request = buildApiRequest(b.op, parts);
  if (b.freshen && request.body && !c.baseline) request.body = b.freshen(request.body);
  b.cases.push({ operationId: b.op.operationId, surface: "api", ...c, request });
}

/**
 * Every sessions.create case would otherwise pair the same two people, who can be in only as many sessions as the
 * pool has DIDs: after a dozen accepted cases every later one would stop at 409 pool_exhausted and never reach the
 * metadata or label it mutates. So each case gets its own pair (numbers are ASCII, so a byte-level swap is exact).
 */
function freshPeople(w: FuzzWorld, template: unknown): Builder["freshen"] {
  const participants = (template as { participants?: Array<{ number?: unknown }> }).participants ?? [];
  const numbers = participants.map((p) => p.number).filter((n): n is string => typeof n === "string");
  if (numbers.length === 0) return undefined;
  return (body) => {
    let text = body.toString("latin1");
    for (const n of numbers) text = text.split(n).join(w.newPerson());
    return Buffer.from(text, "latin1");
  };
}

/** The console's own session routes: the cookie (and its CSRF token) of a session kept for the operation. */
function consoleHeaders(op: Operation, w: FuzzWorld): Array<[string, string]> {
  const session = w.console.sessions[op.operationId];
  if (!session) throw new Error(`fuzz: no console session for ${op.operationId}; add it to CONSOLE_SESSION_OPERATIONS in world.ts`);
  return [
    ["Cookie", session.cookie],
    ["X-CSRF-Token", session.csrf],
  ];
}

function credentialFor(op: Operation, w: FuzzWorld): string | null {
  if (op.security === "apiKey") return `Bearer ${w.api.fixture.apiKey}`;
  if (op.security === "adminToken") return `Bearer ${w.adminToken}`;
  if (op.security === "metricsToken") return `Bearer ${w.metricsToken}`;
  return null;
}

const hasParam = (op: Operation, where: Parameter["in"], name: string) =>
  op.parameters.some((p) => p.in === where && p.name.toLowerCase() === name.toLowerCase());

function validQueryValue(p: Parameter, w: FuzzWorld, rng: Rng): string | undefined {
  if (p.name === "cursor" || p.name === "k") return undefined; // a cursor is only valid when the API issued it
  const hinted = queryHint(p.name, w);
  if (hinted !== undefined) return encodeURIComponent(hinted);
  return encodeURIComponent(String(validValue(p.schema, rng, {}, { allOptional: true })));
}

function baselines(b: Builder, w: FuzzWorld, rng: Rng, template: unknown) {
  const { op, base } = b;
  add(
    b,
    { group: "baseline", kind: "baseline (every optional property)", detail: "valid request", baseline: true },
    base,
  );
  if (op.body) {
    const minimal = validValue(op.body.schema, rng.fork("minimal"), bodyHints(op.operationId, w), {
      allOptional: false,
    });
    add(
      b,
      { group: "baseline", kind: "baseline (random optional properties)", detail: show(minimal, 200), baseline: true },
      withParts(base, { json: minimal }),
    );
  }
  const queryParams = op.parameters.filter((p) => p.in === "query");
  if (queryParams.length > 0) {
    const query = queryParams.flatMap((p): Array<[string, string]> => {
      const v = validQueryValue(p, w, rng);
      return v === undefined ? [] : [[p.name, v]];
    });
    add(
      b,
      {
        group: "baseline",
        kind: "baseline (every query filter)",
        detail: query.map(([k, v]) => `${k}=${v}`).join("&"),
        baseline: true,
      },
      withParts(base, { query }),
    );
  }
  if (op.method === "POST" && hasParam(op, "header", "idempotency-key")) {
    const key = `fuzz-${rng.int(0, 1e9)}`;
    add(
      b,
      { group: "baseline", kind: "baseline with Idempotency-Key", detail: key, baseline: true },
      withParts(base, { headers: [...base.headers, ["Idempotency-Key", key]], json: template }),
    );
  }
}

function expectationFor(pointer: string, edge: EdgeValue) {
  if (edge.overLimit) return OVER_LIMIT_IS_413;
  if (edge.nul) return NUL_IS_4XX;
  if (edge.loneSurrogate && JSON_COLUMN_PROPERTIES.some((p) => pointer === p || pointer.startsWith(`${p}/`))) {
    return { status: "4xx" as const, why: "a lone surrogate in a JSON-column value must be a deliberate 4xx" };
  }
  return undefined;
}

function propertyCases(b: Builder, template: unknown) {
  for (const pointer of pointersOf(template)) {
    const current = getAt(template, pointer);
    const type = jsTypeOf(current);
    const edges: EdgeValue[] = [
      ...TYPE_SWAPS.filter((e) => swapType(e.kind) !== type),
      ...(type === "string" ? STRING_EDGES : []),
      ...(type === "number" ? NUMBER_EDGES : []),
      ...(type === "object" ? OBJECT_EDGES : []),
      ...(type === "array" ? [...ARRAY_EDGES, { kind: "array ← nested 10,000 deep", value: deepArray(10_000) }] : []),
    ];
    for (const edge of edges) {
      const expect = expectationFor(pointer, edge);
      add(
        b,
        {
          group: "property",
          kind: `${type} property: ${edge.kind}`,
          detail: `${pointer} ← ${show(edge.value instanceof RawJson ? edge.value.text : edge.value)}`,
          ...(expect ? { expect } : {}),
        },
        withParts(b.base, { json: setAt(template, pointer, edge.value) }),
      );
    }
    add(
      b,
      { group: "property", kind: "property removed", detail: `${pointer} removed` },
      withParts(b.base, { json: deleteAt(template, pointer) }),
    );
    if (type === "object") {
      add(
        b,
        { group: "property", kind: "extra unknown property (nested)", detail: `${pointer}/fuzzExtra` },
        withParts(b.base, { json: setAt(template, `${pointer}/fuzzExtra`, 1) }),
      );
    }
  }
}

/**
 * Splices raw characters into the first string value of JSON text (a key when there is none, as in
 * `{"retentionDays":5}`), so the mutation always lands: a body left unchanged would be valid and pass for a refusal.
 */
function intoFirstString(text: string, insert: string): string {
  const value = /:"([^"\\]*)"/.exec(text);
  if (value) return text.slice(0, value.index) + `:"${value[1]}${insert}"` + text.slice(value.index + value[0].length);
  const key = /"([^"\\]*)"/.exec(text);
  if (!key) throw new Error(`fuzz: no string to mutate in ${text.slice(0, 80)}`);
  return text.slice(0, key.index) + `"${key[1]}${insert}"` + text.slice(key.index + key[0].length);
}

/** The body as a whole: not JSON, the wrong JSON, too big, too deep, and every way of labelling it wrongly. */
function bodyCases(b: Builder, template: unknown) {
  const text = toJsonText(template);
  const raw = (kind: string, body: Buffer | string, expect?: FuzzCase["expect"], headers = b.base.headers) =>
    add(
      b,
      {
        group: "body",
        kind,
        detail: show(Buffer.isBuffer(body) ? body.toString("latin1") : body, 80),
        ...(expect ? { expect } : {}),
      },
      withParts(b.base, { raw: Buffer.isBuffer(body) ? body : Buffer.from(body, "utf8"), headers }),
    );
  const ct = (value: string | null) => replaceHeader(b.base.headers, "Content-Type", value);

  raw("body: not JSON", "hello, server");
  raw("body: JavaScript-ish object", "{name: 'fuzz'}");
  raw("body: truncated JSON", text.slice(0, Math.max(1, Math.floor(text.length / 2))));
  raw("body: top-level array", "[]");
  raw("body: top-level array of the valid body", `[${text}]`);
  raw("body: top-level string", '"fuzz"');
  raw("body: top-level null", "null");
  raw("body: top-level number", "1");
  raw("body: empty (Content-Length 0)", "");
  raw("body: whitespace only", "  \n ");
  raw("body: trailing garbage", `${text}x`);
  raw("body: trailing NUL byte", Buffer.concat([Buffer.from(text), Buffer.from([0])]), NUL_IS_4XX);
  raw("body: raw NUL byte inside a string", Buffer.from(intoFirstString(text, "\u0000"), "utf8"), NUL_IS_4XX);
  raw("body: UTF-8 BOM", Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]));
  raw(
    "body: invalid UTF-8 bytes in a string",
    Buffer.from(intoFirstString(text, "\u00ff\u00fe\u00ed\u00a0\u0080"), "latin1"),
  );
  raw("body: duplicate keys", text.replace(/^\{/, `{"fuzzDup":1,"fuzzDup":"x",`));
  raw("body: __proto__ property", text.replace(/^\{/, '{"__proto__":{"polluted":true},'));
  raw("body: constructor property", text.replace(/^\{/, '{"constructor":{"prototype":{"polluted":true}},'));
  raw("body: extra unknown property", text.replace(/^\{/, '{"fuzzExtra":"x",'));
  raw("body: 1,000 unknown properties", `{${Array.from({ length: 1000 }, (_, i) => `"p${i}":1`).join(",")}}`);
  raw("body: nested 10,000 deep (top-level array)", deepArray(10_000).text);
  raw("body: nested 10,000 deep (objects)", deepObject(10_000).text);
  raw("body: nested 10,000 deep inside a property", text.replace(/^\{/, `{"fuzzDeep":${deepArray(10_000).text},`));
  raw(
    "body: over the size limit",
    text.replace(/^\{/, `{"fuzzPad":"${"x".repeat(BODY_LIMIT_BYTES + 1024)}",`),
    OVER_LIMIT_IS_413,
  );
  raw("body: 1 MB", text.replace(/^\{/, `{"fuzzPad":"${"x".repeat(1024 * 1024)}",`), OVER_LIMIT_IS_413);

  raw("content-type: missing", text, undefined, ct(null));
  raw("content-type: text/plain", text, undefined, ct("text/plain"));
  raw("content-type: form", "name=fuzz", undefined, ct("application/x-www-form-urlencoded"));
  raw(
    "content-type: multipart",
    '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--x--',
    undefined,
    ct("multipart/form-data; boundary=x"),
  );
  raw("content-type: application/merge-patch+json", text, undefined, ct("application/merge-patch+json"));
  raw("content-type: application/vnd.api+json", text, undefined, ct("application/vnd.api+json"));
  raw("content-type: garbage", text, undefined, ct(";;;/"));
  raw("content-type: upper case", text, undefined, ct("APPLICATION/JSON"));
  raw("content-type: charset=latin1", text, undefined, ct("application/json; charset=latin1"));
  raw(
    "content-type: charset=latin1 with non-ASCII bytes",
    Buffer.from(intoFirstString(text, "\u00e9"), "latin1"),
    undefined,
    ct("application/json; charset=latin1"),
  );
  raw(
    "content-type: charset=utf-16 (UTF-16LE body)",
    Buffer.from(text, "utf16le"),
    undefined,
    ct("application/json; charset=utf-16"),
  );
  raw("content-type: charset=utf-16 (UTF-8 body)", text, undefined, ct("application/json; charset=utf-16"));
  raw(
    "content-type: charset=utf-16be (odd length)",
    Buffer.from(`${text} `, "utf8"),
    undefined,
    ct("application/json; charset=utf-16be"),
  );
  raw("content-type: charset=bogus", text, undefined, ct("application/json; charset=x-fuzz-bogus"));
  raw("content-type: two headers", text, undefined, [...ct("application/json"), ["Content-Type", "text/plain"]]);

  for (const encoding of ["gzip", "br", "deflate", "bogus", "GZIP", "gzip, identity"]) {
    raw(`content-encoding: ${encoding} on an uncompressed body`, text, ENCODING_IS_4XX, [
      ...b.base.headers,
      ["Content-Encoding", encoding],
    ]);
  }
  raw("content-encoding: identity", text, undefined, [...b.base.headers, ["Content-Encoding", "identity"]]);
  raw("content-encoding: gzip, truncated stream", gzipSync(Buffer.from(text)).subarray(0, 12), ENCODING_IS_4XX, [
    ...b.base.headers,
    ["Content-Encoding", "gzip"],
  ]);
  // A small gzip that inflates past the limit: must be refused as too large, not inflated without bound.
  raw(
    "content-encoding: gzip bomb (1 MB inflated)",
    gzipSync(Buffer.from(text.replace(/^\{/, `{"fuzzPad":"${"x".repeat(1024 * 1024)}",`))),
    { status: "4xx", why: "an inflated body over the limit is refused" },
    [...b.base.headers, ["Content-Encoding", "gzip"]],
  );

  b.cases.push({
    operationId: b.op.operationId,
    surface: "api",
    group: "body",
    kind: "transfer-encoding: chunked (valid body)",
    detail: "the valid body, chunked",
    request: { ...buildApiRequest(b.op, b.base), chunked: true },
  });
}

/** Operations that take no body still get sent one: it must be ignored or refused, never crash the parser. */
function unexpectedBodyCases(b: Builder) {
  const send = (kind: string, body: string, headers: Array<[string, string]>) =>
    add(
      b,
      { group: "body", kind, detail: show(body, 60) },
      withParts(b.base, { raw: Buffer.from(body), headers: [...b.base.headers, ...headers] }),
    );
  send("unexpected body: JSON", '{"fuzz":1}', [["Content-Type", "application/json"]]);
  send("unexpected body: broken JSON", '{"fuzz":', [["Content-Type", "application/json"]]);
  send("unexpected body: text/plain", "hello", [["Content-Type", "text/plain"]]);
  send("unexpected body: JSON with NUL", '{"fuzz":"\\u0000"}', [["Content-Type", "application/json"]]);
  send("unexpected body: over the size limit", `{"p":"${"x".repeat(BODY_LIMIT_BYTES + 1024)}"}`, [
    ["Content-Type", "application/json"],
  ]);
  send("unexpected body: nested 10,000 deep", deepArray(10_000).text, [["Content-Type", "application/json"]]);
  for (const encoding of ["gzip", "br", "deflate", "bogus"]) {
    send(`unexpected body: content-encoding ${encoding} on an uncompressed body`, '{"fuzz":1}', [
      ["Content-Type", "application/json"],
      ["Content-Encoding", encoding],
    ]);
  }
}

const INTEGER_TEXT = [
  "abc",
  "1.5",
  "-1",
  "0",
  "1e309",
  "1e1",
  "99999999999999999999999",
  "0x10",
  "%205",
  "5abc",
  "101",
  "NaN",
  "Infinity",
  "true",
];

function queryCases(b: Builder, w: FuzzWorld, rng: Rng) {
  const q = (kind: string, pairs: Array<[string, string]>, expect?: FuzzCase["expect"]) =>
    add(
      b,
      {
        group: "query",
        kind,
        detail: pairs.map(([k, v]) => `${k}=${show(v, 40)}`).join("&"),
        ...(expect ? { expect } : {}),
      },
      withParts(b.base, { query: pairs }),
    );
  for (const p of b.op.parameters.filter((x) => x.in === "query")) {
    const schema = resolveSchema(p.schema);
    const type = schema.enum ? "enum" : String(schema.type);
    const valid = validQueryValue(p, w, rng) ?? "fuzz";
    for (const edge of ENCODED_TEXT_EDGES)
      q(`query ${type}: ${edge.kind}`, [[p.name, edge.text]], edge.nul ? NUL_IS_4XX : undefined);
    if (type === "integer") for (const text of INTEGER_TEXT) q(`query integer: wrong type or range`, [[p.name, text]]);
    if (type === "enum") {
      q("query enum: unknown value", [[p.name, "fuzz_bogus"]]);
      q("query enum: upper-cased value", [[p.name, valid.toUpperCase()]]);
    }
    q(`query ${type}: repeated`, [
      [p.name, valid],
      [p.name, valid],
    ]);
    q(
      `query ${type}: repeated, second with NUL`,
      [
        [p.name, valid],
        [p.name, "%00"],
      ],
      NUL_IS_4XX,
    );
    q(`query ${type}: bracket array syntax`, [[`${p.name}[]`, valid]]);
    q(`query ${type}: bracket object syntax`, [[`${p.name}[a]`, valid]]);
    q(`query ${type}: name without a value`, [[p.name, ""]]);
    q(`query ${type}: encoded name`, [
      [encodeURIComponent(p.name).replace(/./, (c) => `%${c.charCodeAt(0).toString(16)}`), valid],
    ]);
  }
  q("query: unknown parameter", [["fuzz", "1"]]);
  q("query: __proto__ parameter", [
    ["__proto__", "x"],
    ["constructor", "y"],
    ["hasOwnProperty", "z"],
  ]);
  // Not held to "NUL is a 4xx": the server never reads a parameter the spec does not declare.
  q("query: unknown parameter with NUL", [["fuzz", "%00"]]);
  q("query: 8 kB unknown parameter", [["fuzz", "x".repeat(8 * 1024)]]);
  q("query: URL over the header limit (20 kB)", [["fuzz", "x".repeat(20 * 1024)]], {
    status: "4xx",
    why: "an over-long URL is a deliberate 4xx problem",
  });
  q("query: raw '?' and '&' soup", [
    ["&&", "=="],
    ["", ""],
  ]);
}

const PATH_EDGES: Array<{ kind: string; text: string; nul?: boolean }> = [
  { kind: "path id ← punctuation", text: "!!'()*" },
  { kind: "path id ← space", text: "%20" },
  { kind: "path id ← emoji", text: encodeURIComponent("📞") },
  { kind: "path id ← 65 chars", text: "x".repeat(65) },
  { kind: "path id ← 10 kB", text: "x".repeat(10 * 1024) },
  { kind: "path id ← %00", text: "%00", nul: true },
  { kind: "path id ← NUL inside", text: "fuzz%00fuzz", nul: true },
  { kind: "path id ← ..", text: ".." },
  { kind: "path id ← .", text: "." },
  { kind: "path id ← %2e%2e", text: "%2e%2e" },
  { kind: "path id ← encoded slash", text: "a%2Fb" },
  { kind: "path id ← encoded ../", text: "..%2F..%2Fadmin" },
  { kind: "path id ← malformed escape", text: "%ZZ" },
  { kind: "path id ← encoded lone surrogate", text: "%ED%A0%80" },
  { kind: "path id ← overlong NUL (%C0%80)", text: "%C0%80" },
  { kind: "path id ← invalid byte (%FF)", text: "%FF" },
  { kind: "path id ← control character", text: "%01" },
  { kind: "path id ← SQL-looking", text: encodeURIComponent("' OR '1'='1") },
];

function pathCases(b: Builder, w: FuzzWorld) {
  const p = (kind: string, values: Record<string, string>, expect?: FuzzCase["expect"], suffix?: string) =>
    add(
      b,
      {
        group: "path",
        kind,
        detail:
          Object.entries(values)
            .map(([k, v]) => `{${k}} = ${show(v, 60)}`)
            .join(", ") + (suffix ? ` + ${JSON.stringify(suffix)}` : ""),
        ...(expect ? { expect } : {}),
      },
      withParts(b.base, { pathValues: { ...b.base.pathValues, ...values }, ...(suffix ? { pathSuffix: suffix } : {}) }),
    );
  for (const param of b.op.parameters.filter((x) => x.in === "path")) {
    const target = pathTarget(b.op.operationId, b.op.pathTemplate, param.name);
    const own = target.own(w);
    for (const edge of PATH_EDGES) p(edge.kind, { [param.name]: edge.text }, edge.nul ? NUL_IS_4XX : undefined);
    p("path id ← own id + %00", { [param.name]: `${encodeURIComponent(own)}%00` }, NUL_IS_4XX);
    p("path id ← own id upper-cased", { [param.name]: encodeURIComponent(own.toUpperCase()) });
    p("path id ← own id percent-encoded", {
      [param.name]: [...own].map((c) => `%${c.charCodeAt(0).toString(16).padStart(2, "0")}`).join(""),
    });
    p(
      "path id ← unknown, well-formed",
      { [param.name]: encodeURIComponent(target.unknown(w)) },
      { status: [404], why: "an id that does not exist is 404 not_found" },
    );
    if (target.other) {
      p(
        "path id ← another tenant's id",
        { [param.name]: encodeURIComponent(target.other(w)) },
        { status: [404], why: "another tenant's resource is a 404, exactly like one that never existed" },
      );
    }
    p("path: empty id segment", { [param.name]: "" });
  }
  p("path: trailing slash", {}, undefined, "/");
  p("path: extra segment", {}, undefined, "/fuzz");
}

function authCases(b: Builder, w: FuzzWorld) {
  const refused = { status: [401], why: "missing, malformed, unknown, revoked or wrong-realm credentials are all 401" };
  const a = (kind: string, value: string | null, expect?: FuzzCase["expect"], extra: Array<[string, string]> = []) =>
    add(
      b,
      {
        group: "auth",
        kind,
        detail: value === null ? "no Authorization" : show(value, 60),
        ...(expect ? { expect } : {}),
      },
      withParts(b.base, { headers: [...replaceHeader(b.base.headers, "Authorization", value), ...extra] }),
    );
  if (b.op.security === "none") {
    a("auth on an open route: garbage", "Basic x");
    a("auth on an open route: operator token", `Bearer ${w.adminToken}`);
    return;
  }
  if (b.op.security === "consoleSession") {
    consoleAuthCases(b, w, refused);
    return;
  }
  const valid = b.op.security === "apiKey" ? w.api.fixture.apiKey : b.op.security === "metricsToken" ? w.metricsToken : w.adminToken;
  a("auth: missing", null, refused);
  a("auth: bare 'Bearer'", "Bearer", refused);
  a("auth: 'Bearer ' with no token", "Bearer ", refused);
  a("auth: Basic", "Basic eDp5", refused);
  a("auth: token without scheme", valid, refused);
  a("auth: 10 kB token", `Bearer ${"k".repeat(10 * 1024)}`, refused);
  a("auth: unknown well-formed key", "Bearer mk_live_1111111111111111111111111111", refused);
  a("auth: token with latin1 bytes", `Bearer ${valid}\u00ff\u00fe`, refused);
  a("auth: token with a space inside", `Bearer ${valid.slice(0, 8)} ${valid.slice(8)}`, refused);
  if (b.op.security === "apiKey") {
    a("auth: revoked key", `Bearer ${w.api.revokedKey}`, refused);
    a("auth: operator token on a tenant route", `Bearer ${w.adminToken}`, refused);
  } else {
    a("auth: tenant key on an operator route", `Bearer ${w.api.fixture.apiKey}`, refused);
  }
  if (b.op.security === "metricsToken") a("auth: operator token on the metrics", `Bearer ${w.adminToken}`, refused);
  a("auth: lower-case scheme", `bearer ${valid}`);
  a("auth: two Authorization headers", `Bearer ${valid}`, undefined, [["Authorization", "Basic eDp5"]]);
}

/** The console's cookie: absent, malformed, forged, signed out, or sent with a bearer token that is not valid. */
function consoleAuthCases(b: Builder, w: FuzzWorld, refused: NonNullable<FuzzCase["expect"]>) {
  const cookie = (kind: string, value: string | null, extra: Array<[string, string]> = []) =>
    add(
      b,
      { group: "auth", kind, detail: value === null ? "no Cookie" : show(value, 60), expect: refused },
      withParts(b.base, { headers: [...replaceHeader(b.base.headers, "Cookie", value), ...extra] }),
    );
  const valid = b.base.headers.find(([n]) => n === "Cookie")![1];
  const [, token = ""] = valid.split("=");
  cookie("console auth: no cookie", null);
  cookie("console auth: empty cookie", "maskline_console=");
  cookie("console auth: garbage cookie", "maskline_console=garbage");
  cookie("console auth: 10 kB cookie", `maskline_console=${"c".repeat(10 * 1024)}`);
  cookie("console auth: token with its signature cut", `maskline_console=${token.slice(0, -4)}`);
  cookie("console auth: the cookie under another name", `maskline_session=${token}`);
  cookie("console auth: a signed-out session", w.console.signedOutCookie);
  cookie("console auth: the tenant key as a cookie", `maskline_console=${w.api.fixture.apiKey}`);
  cookie("console auth: a bearer key and no cookie", null, [["Authorization", `Bearer ${w.api.fixture.apiKey}`]]);
}

/** Headers and framing: what Node's HTTP parser refuses must still be answered as a problem. */
function headerCases(b: Builder) {
  const h = (kind: string, headers: Array<[string, string]>, expect?: FuzzCase["expect"], detail = kind) =>
    add(b, { group: "headers", kind, detail, ...(expect ? { expect } : {}) }, withParts(b.base, { headers }));
  if (hasParam(b.op, "header", "idempotency-key")) {
    const idem = (kind: string, value: string, expect?: FuzzCase["expect"]) =>
      h(`idempotency-key: ${kind}`, replaceHeader(b.base.headers, "Idempotency-Key", value), expect, show(value, 60));
    idem("empty", "");
    idem("256 chars", "k".repeat(256));
    idem("10 kB", "k".repeat(10 * 1024));
    idem("latin1 bytes", "fuzz\u00ff\u00fe");
    idem("raw NUL byte", "fuzz\u0000fuzz", NUL_IS_4XX);
    idem("spaces", "  fuzz key  ");
  }
  h("x-request-id: 10 kB", [...b.base.headers, ["X-Request-Id", "r".repeat(10 * 1024)]]);
  h("x-request-id: path-like", [...b.base.headers, ["X-Request-Id", "../../etc/passwd"]]);
  h("accept: XML only", [...b.base.headers, ["Accept", "application/xml"]]);
  h(
    "huge header (20 kB)",
    [...b.base.headers, ["X-Fuzz", "h".repeat(20 * 1024)]],
    HUGE_HEADERS_ARE_431,
    "X-Fuzz: 20 kB",
  );
  h(
    "huge headers (300 × 70 bytes)",
    [...b.base.headers, ...Array.from({ length: 300 }, (_, i): [string, string] => [`X-Fuzz-${i}`, "h".repeat(64)])],
    HUGE_HEADERS_ARE_431,
    "300 headers",
  );
  h("raw NUL byte in a header value", [...b.base.headers, ["X-Fuzz", "a\u0000b"]], NUL_IS_4XX);
  h("control byte in a header value", [...b.base.headers, ["X-Fuzz", "a\u0001b"]], MALFORMED_HTTP_IS_4XX);
  h("invalid header name", [...b.base.headers, ["X Fuzz", "x"]], MALFORMED_HTTP_IS_4XX);
  add(
    b,
    {
      group: "transport",
      kind: "raw NUL byte in the request target",
      detail: "%00 written as a byte",
      expect: NUL_IS_4XX,
    },
    withParts(b.base, { pathSuffix: "\u0000" }),
  );
  if (b.op.method !== "GET") {
    const chunkedBad = withParts(b.base, { raw: Buffer.from("zz\r\n{}\r\n0\r\n\r\n") });
    b.cases.push({
      operationId: b.op.operationId,
      surface: "api",
      group: "transport",
      kind: "malformed chunked framing",
      detail: "chunk size 'zz'",
      expect: MALFORMED_HTTP_IS_4XX,
      request: { ...buildApiRequest(b.op, chunkedBad), rawChunked: true },
    });
    add(
      b,
      {
        group: "transport",
        kind: "Content-Length and Transfer-Encoding together",
        detail: "both framing headers",
        expect: MALFORMED_HTTP_IS_4XX,
      },
      withParts(b.base, {
        raw: Buffer.from("2\r\n{}\r\n0\r\n\r\n"),
        headers: [...b.base.headers, ["Transfer-Encoding", "chunked"]],
      }),
    );
  }
}

export function apiCases(op: Operation, w: FuzzWorld, rng: Rng): FuzzCase[] {
  const credential = credentialFor(op, w);
  const pathValues = Object.fromEntries(
    op.parameters
      .filter((p) => p.in === "path")
      .map((p) => [p.name, encodeURIComponent(pathTarget(op.operationId, op.pathTemplate, p.name).own(w))]),
  );
  const template = op.body
    ? validValue(op.body.schema, rng.fork("template"), bodyHints(op.operationId, w), { allOptional: true })
    : undefined;
  const headers: Array<[string, string]> = [];
  if (credential) headers.push(["Authorization", credential]);
  if (op.security === "consoleSession") headers.push(...consoleHeaders(op, w));
  if (op.body) headers.push(["Content-Type", op.body.contentType]);
  const base: ApiParts = {
    method: op.method,
    pathValues,
    query: [],
    headers,
    ...(template !== undefined ? { json: template } : {}),
  };
  const b: Builder = {
    op,
    base,
    cases: [],
    ...(op.operationId === "sessions.create" ? { freshen: freshPeople(w, template) } : {}),
  };

  baselines(b, w, rng, template);
  if (op.body && template !== undefined) {
    propertyCases(b, template);
    bodyCases(b, template);
  } else {
    unexpectedBodyCases(b);
  }
  queryCases(b, w, rng);
  pathCases(b, w);
  authCases(b, w);
  headerCases(b);
  // Operations that ask the carrier document its refusal as 502 carrier_error (the oracle allows it there only).
  if (op.responses.includes("502")) for (const c of b.cases) c.carrierErrors = true;
  return b.cases;
}
