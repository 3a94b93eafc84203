/**
 * Failures, grouped so one run shows every distinct defect once: by mutation class and what came back, with one
 * request in full (method, path, headers, first 200 bytes of body) and the other instances listed by what changed.
 */
import type { RawRequest } from "./raw-http.js";
import type { Failure } from "./runner.js";

export interface FailureClass {
  operationId: string;
  kind: string;
  observed: string;
  failures: Failure[];
}

export function groupFailures(failures: Failure[]): FailureClass[] {
  const groups = new Map<string, FailureClass>();
  for (const f of failures) {
    const key = `${f.case.operationId}\u0000${f.case.kind}\u0000${f.observed}`;
    const group = groups.get(key) ?? {
      operationId: f.case.operationId,
      kind: f.case.kind,
      observed: f.observed,
      failures: [],
    };
    group.failures.push(f);
    groups.set(key, group);
  }
  return [...groups.values()];
}

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}…(${text.length} chars)` : text);

/** Bytes as readable text: printable ASCII kept, everything else escaped. */
function printable(bytes: Buffer | string): string {
  const text = Buffer.isBuffer(bytes) ? bytes.toString("latin1") : bytes;
  return text.replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

export function describeRequest(req: RawRequest): string {
  const lines = [`${req.method} ${clip(printable(req.path), 200)}${req.chunked || req.rawChunked ? " (chunked)" : ""}`];
  for (const [name, value] of req.headers) lines.push(`${printable(name)}: ${clip(printable(value), 100)}`);
  if (req.body) lines.push(`body (${req.body.length} bytes): ${printable(req.body.subarray(0, 200))}`);
  return lines.map((l) => `      ${l}`).join("\n");
}

export function formatReport(operationId: string, seed: number, sent: number, failures: Failure[]): string {
  const classes = groupFailures(failures);
  const out = [
    `${operationId}: ${failures.length} of ${sent} fuzz cases failed in ${classes.length} distinct ways (FUZZ_SEED=${seed} reproduces the cases)`,
  ];
  for (const cls of classes) {
    const [first, ...others] = cls.failures;
    out.push(`  ✗ [${cls.kind}] → ${cls.observed}: ${cls.failures.length} case(s)`);
    out.push(`    #${first!.index} ${first!.case.detail}`);
    for (const v of first!.violations) out.push(`      - ${v}`);
    out.push(describeRequest(first!.case.request));
    if (first!.replyPreview) out.push(`      reply: ${printable(first!.replyPreview.slice(0, 200))}`);
    if (others.length)
      out.push(
        `    also: ${others
          .slice(0, 10)
          .map((f) => `#${f.index} ${clip(f.case.detail, 60)}`)
          .join("; ")}${others.length > 10 ? `; +${others.length - 10} more` : ""}`,
      );
  }
  return out.join("\n");
}

/** A machine-readable line per failure class, for triage across runs (FUZZ_REPORT=path writes them). */
export function reportRecords(failures: Failure[]) {
  return groupFailures(failures).map((cls) => ({
    operationId: cls.operationId,
    kind: cls.kind,
    observed: cls.observed,
    count: cls.failures.length,
    violations: [...new Set(cls.failures.flatMap((f) => f.violations))],
    examples: cls.failures.slice(0, 3).map((f) => f.case.detail),
    request: describeRequest(cls.failures[0]!.case.request),
    reply: cls.failures[0]!.replyPreview.slice(0, 200),
  }));
}
