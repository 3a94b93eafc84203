/**
 * What every response must be. API routes: never a 5xx except 503 `unavailable` (and `502 carrier_error` where the
 * operation documents it: the carrier refused); every error an RFC 9457 problem with our fields. Webhooks: 200 with
 * XML the carrier can parse, or a problem (4xx, or 503 with Retry-After). All: an answer within 5 s, no real number
 * in it, and whatever the case itself expects on top.
 */
import { parseVobizXml } from "../../sim/vobiz-xml.js";
import { numberForms } from "../privacy.js";
import type { FuzzCase } from "./case.js";
import type { RawResponse, RawResult } from "./raw-http.js";

export const MAX_RESPONSE_MS = 5000;
const SNAKE_CASE = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;

export interface Verdict {
  /** Empty when the response is fine. */
  violations: string[];
  /** What came back, short: "500 internal_error", "400 (no content-type)", "timeout". Failures are grouped on it. */
  observed: string;
}

interface ProblemBody {
  type?: unknown;
  title?: unknown;
  status?: unknown;
  detail?: unknown;
  code?: unknown;
  requestId?: unknown;
}

function problemOf(res: RawResponse): { problem?: ProblemBody; violations: string[] } {
  const violations: string[] = [];
  const contentType = res.headers["content-type"] ?? "";
  if (!/^application\/problem\+json\b/i.test(contentType)) {
    violations.push(
      `a ${res.status} must be application/problem+json, got ${contentType ? JSON.stringify(contentType) : "no Content-Type"}`,
    );
  }
  let problem: ProblemBody | undefined;
  try {
    const parsed: unknown = JSON.parse(res.body.toString("utf8"));
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) problem = parsed as ProblemBody;
  } catch {
    // reported below
  }
  if (!problem) {
    violations.push(
      `a ${res.status} body must be a problem object, got ${JSON.stringify(res.body.toString("utf8").slice(0, 80))}`,
    );
    return { violations };
  }
  for (const field of ["type", "title", "detail", "requestId"] as const) {
    if (typeof problem[field] !== "string" || problem[field] === "")
      violations.push(`problem.${field} must be a non-empty string`);
  }
  if (problem.status !== res.status)
    violations.push(`problem.status ${JSON.stringify(problem.status)} differs from the HTTP status ${res.status}`);
  if (typeof problem.code !== "string" || !SNAKE_CASE.test(problem.code))
    violations.push(`problem.code must be snake_case, got ${JSON.stringify(problem.code)}`);
  return { problem, violations };
}

function observedOf(res: RawResponse): string {
  const contentType = (res.headers["content-type"] ?? "").split(";")[0]!;
  let code: string | undefined;
  if (/json/.test(contentType)) {
    try {
      const body = JSON.parse(res.body.toString("utf8")) as { code?: unknown };
      if (typeof body.code === "string") code = body.code;
    } catch {
      // not JSON after all
    }
  }
  return `${res.status} ${code ?? (contentType || "(no content-type)")}`;
}

function expectationViolations(c: FuzzCase, status: number): string[] {
  if (!c.expect) return [];
  const { status: wanted, why } = c.expect;
  const ok =
    wanted === "4xx"
      ? status >= 400 && status < 500
      : wanted === "not2xx"
        ? status < 200 || status > 299
        : wanted.includes(status);
  return ok ? [] : [`expected ${Array.isArray(wanted) ? wanted.join(" or ") : wanted}, got ${status}: ${why}`];
}

/** None of the real numbers, in any written form, in the headers or the body. */
function privacyViolations(res: RawResponse, realNumbers: readonly string[]): string[] {
  const text = `${JSON.stringify(res.headers)}\n${res.body.toString("utf8")}`;
  for (const n of realNumbers)
    for (const form of numberForms(n))
      if (text.includes(form)) return [`the response contains a real number (${form.slice(0, 4)}…)`];
  return [];
}

function apiViolations(c: FuzzCase, res: RawResponse): string[] {
  const out: string[] = [];
  if (res.status >= 500) {
    const { problem } = problemOf(res);
    const unavailable = res.status === 503 && problem?.code === "unavailable";
    const carrierRefused = c.carrierErrors === true && res.status === 502 && problem?.code === "carrier_error";
    if (!unavailable && !carrierRefused) {
      const allowed = c.carrierErrors ? "503 unavailable and 502 carrier_error are" : "503 unavailable is";
      out.push(`status ${res.status} is a server error (only ${allowed} allowed)`);
    }
  }
  if (res.status >= 400) out.push(...problemOf(res).violations);
  return out;
}

function webhookViolations(res: RawResponse): string[] {
  if (res.status === 200) {
    const out: string[] = [];
    const contentType = res.headers["content-type"] ?? "";
    if (!/^(application|text)\/xml\b/i.test(contentType))
      out.push(`a 200 must be XML, got Content-Type ${JSON.stringify(contentType)}`);
    const parsed = parseVobizXml(res.body.toString("utf8"));
    if (parsed.kind === "invalid_xml") out.push(`a 200 must be valid VobizXML: ${parsed.error}`);
    out.push(...parsed.problems.map((p) => `VobizXML breach: ${p}`));
    return out;
  }
  if (res.status >= 400 && res.status < 500) return problemOf(res).violations;
  if (res.status === 503) {
    const { problem, violations } = problemOf(res);
    const out = [...violations];
    if (!res.headers["retry-after"]) out.push("a webhook 503 must carry Retry-After");
    if (problem && problem.code !== "unavailable")
      out.push(`a webhook 503 must be code unavailable, got ${JSON.stringify(problem.code)}`);
    return out;
  }
  return [`webhooks answer 200 XML, a 4xx problem or a 503; got ${res.status}`];
}

export function judge(c: FuzzCase, result: RawResult, realNumbers: readonly string[]): Verdict {
  if (!result.ok)
    return {
      violations: [`no response: ${result.error}`],
      observed: /within/.test(result.error) ? "timeout (> 5 s)" : "no response",
    };
  const res = result.response;
  const violations = [
    ...(res.elapsedMs > MAX_RESPONSE_MS ? [`took ${Math.round(res.elapsedMs)} ms (limit ${MAX_RESPONSE_MS})`] : []),
    ...(c.surface === "api" ? apiViolations(c, res) : webhookViolations(res)),
    ...expectationViolations(c, res.status),
  ];
  // The carrier must be told the real number to dial: a webhook's 200 XML is the one place it belongs.
  if (!(c.surface === "webhook" && res.status === 200)) violations.push(...privacyViolations(res, realNumbers));
  if (c.baseline && (res.status < 200 || res.status > 299)) {
    violations.push(
      `the valid baseline was refused (${res.status}): a generator or fixture problem, or the server refuses valid input`,
    );
  }
  return { violations, observed: observedOf(res) };
}
