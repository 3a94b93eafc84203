// Types of gen.mjs, for the tests that run its check against a modified copy of the spec.
export declare const SPEC_PATH: string;
export declare const OUT_DIR: string;
/** The generated files' contents, by file name, for the spec text given. */
export declare function generate(specText: string): Promise<Record<"openapi.json" | "schema.ts" | "constants.ts" | "docs.html", string>>;
/** The generated files under `outDir` that differ from what `specPath` generates (empty when all match). */
export declare function checkGenerated(paths?: { specPath?: string; outDir?: string }): Promise<string[]>;
/** Writes every generated file under `outDir`; returns their names. */
export declare function writeGenerated(paths?: { specPath?: string; outDir?: string }): Promise<string[]>;
