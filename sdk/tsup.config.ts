import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts"],
  format: ["esm", "cjs"],
  target: "node20",
  platform: "neutral",
  outDir: "dist",
  clean: true,
  sourcemap: true,
  splitting: false,
  treeshake: false,
  // The generated schema is type-only; bundle it (and inline it into the declarations) so the published package
  // never refers to the private workspace package `@maskline/openapi`.
  noExternal: ["@maskline/openapi"],
  external: ["openapi-fetch"],
  dts: {
    resolve: [/^@maskline\/openapi(\/.*)?$/],
    compilerOptions: { paths: { "@maskline/openapi/schema": ["../openapi/generated/schema.ts"] } },
  },
});
