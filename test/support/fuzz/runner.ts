/** Sends the cases (baselines first, one at a time; then the rest with bounded concurrency) and judges each reply. */
import type { FuzzCase } from "./case.js";
import { judge, MAX_RESPONSE_MS } from "./oracle.js";
import { sendRaw, type RawResult } from "./raw-http.js";
import type { ServerErrorLog } from "./server-errors.js";

export interface Failure {
  index: number;
  case: FuzzCase;
  observed: string;
  violations: string[];
  /** First 300 bytes of the reply body, for the report. */
  replyPreview: string;
}

export interface RunOptions {
  target: { host: string; port: number };
  concurrency: number;
  realNumbers: readonly string[];
  errors: ServerErrorLog;
}

export interface RunResult {
  sent: number;
  failures: Failure[];
  elapsedMs: number;
  /** What each case got ("201", "422", "no response"), in case order: for FUZZ_TRACE and coverage checks. */
  outcomes: Array<{ kind: string; detail: string; status: string }>;
}

// The client waits a little past the limit, so a slow answer is reported with its time instead of as no answer.
const CLIENT_TIMEOUT_MS = MAX_RESPONSE_MS + 500;

function evaluate(index: number, c: FuzzCase, result: RawResult, options: RunOptions): Failure | null {
  const verdict = judge(c, result, options.realNumbers);
  const violations = [...verdict.violations];
  let observed = verdict.observed;
  if (result.ok) {
    const logged = options.errors.forRequest(result.response.headers["x-request-id"]);
    if (logged) {
      violations.push(`the server logged an error for this request: "${logged.msg}" (${logged.cause})`);
      observed += ` + logged "${logged.msg}"`;
    }
  }
  if (violations.length === 0) return null;
  const replyPreview = result.ok ? result.response.body.subarray(0, 300).toString("utf8") : "";
  return { index, case: c, observed, violations, replyPreview };
}

export async function runCases(cases: FuzzCase[], options: RunOptions): Promise<RunResult> {
  const started = performance.now();
  const failures: Failure[] = [];
  const outcomes: RunResult["outcomes"] = new Array(cases.length);
  const send = async (index: number) => {
    const c = cases[index]!;
    const result = await sendRaw(options.target, c.request, CLIENT_TIMEOUT_MS);
    outcomes[index] = {
      kind: c.kind,
      detail: c.detail,
      status: result.ok ? String(result.response.status) : "no response",
    };
    const failure = evaluate(index, c, result, options);
    if (failure) failures.push(failure);
  };
  const indexes = cases.map((_, i) => i);
  const ordered = [...indexes.filter((i) => cases[i]!.baseline), ...indexes.filter((i) => cases[i]!.afterBaselines)];
  for (const i of ordered) await send(i);
  const rest = indexes.filter((i) => !cases[i]!.baseline && !cases[i]!.afterBaselines);
  let next = 0;
  const worker = async () => {
    while (next < rest.length) await send(rest[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, rest.length) }, worker));
  failures.sort((a, b) => a.index - b.index);
  return { sent: cases.length, failures, elapsedMs: performance.now() - started, outcomes };
}
