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
  // Bundle the generated spec files (the schema's types inlined into the declarations, the constants' values into the
  // code) so the published package never refers to the private workspace package `@maskline/openapi`.
  noExternal: ["@maskline/openapi"],
  external: ["openapi-fetch"],
  dts: {
    resolve: [/^@maskline\/openapi(\/.*)?$/],
    compilerOptions: {
      paths: {
        "@maskline/openapi/schema": ["../openapi/generated/schema.ts"],
        "@maskline/openapi/constants": ["../openapi/generated/constants.ts"],
      },
    },
  },
});
