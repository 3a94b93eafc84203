/**
 * What an editor shows for the built package's types (sdk/dist/index.d.ts, as an integrator's editor loads it):
 * names such as `Session` and `CallListParams`, not their expansion or `components["schemas"][…]`.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { afterAll, describe, expect, it } from "vitest";

// Inside test/, so "@maskline/sdk" resolves through test/node_modules to the built package, not the source.
const dir = mkdtempSync(join(import.meta.dirname, ".hover-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const source = `import { Maskline, PoolExhaustedError } from "@maskline/sdk";
const maskline = new Maskline({ apiKey: "mk_live_x", baseUrl: "http://localhost:8080" });
export async function f(err: unknown) {
  const session = await maskline.sessions.get("ses_1");
  const calls = maskline.calls.list({ sessionId: session.id });
  if (err instanceof PoolExhaustedError) return err.participant;
  return calls;
}
`;
const file = join(dir, "consumer.mts");
writeFileSync(file, source);

const options: ts.CompilerOptions = {
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  target: ts.ScriptTarget.ES2022,
  strict: true,
  noEmit: true,
  types: ["node"],
};
const service = ts.createLanguageService({
  getScriptFileNames: () => [file],
  getScriptVersion: () => "1",
  getScriptSnapshot: (name) => {
    const text = ts.sys.readFile(name);
    return text === undefined ? undefined : ts.ScriptSnapshot.fromString(text);
  },
  getCurrentDirectory: () => dir,
  getCompilationSettings: () => options,
  getDefaultLibFileName: ts.getDefaultLibFilePath,
  fileExists: ts.sys.fileExists,
  readFile: ts.sys.readFile,
  readDirectory: ts.sys.readDirectory,
  directoryExists: ts.sys.directoryExists,
  getDirectories: ts.sys.getDirectories,
});

/** The hover text at the first occurrence of `marker` (its first character) in the consumer. */
function hover(marker: string): string {
  const info = service.getQuickInfoAtPosition(file, source.indexOf(marker));
  return ts.displayPartsToString(info?.displayParts);
}

describe("@maskline/sdk in an editor", () => {
  it("type-checks the consumer against the built declarations", () => {
    const diagnostics = [...service.getSemanticDiagnostics(file), ...service.getSyntacticDiagnostics(file)];
    expect(diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"))).toEqual([]);
  });

  it("names the types in hovers: Session, CallListParams, PagePromise<Call>, ProblemParticipant", () => {
    expect(hover("session =")).toBe("const session: Session");
    expect(hover("list({")).toMatch(/^\(method\) Calls\.list\(filters\?: CallListParams, opts\?: RequestOptions\): PagePromise<Call>$/);
    expect(hover("participant;")).toBe("(property) PoolExhaustedError.participant: ProblemParticipant | undefined");
  });
});
