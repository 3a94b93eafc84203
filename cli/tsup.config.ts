import { defineConfig } from "tsup";

// One file with the SDK bundled in (from its source, through tsconfig's paths), so the packed CLI installs on its
// own; the SDK's one dependency, openapi-fetch, stays a dependency.
export default defineConfig({
  entry: { main: "src/main.ts" },
  format: ["esm"],
  platform: "node",
  target: "node20",
  outDir: "dist",
  clean: true,
  sourcemap: true,
  dts: false,
  noExternal: ["@maskline/sdk", /^@maskline\/openapi/],
  external: ["openapi-fetch"],
  banner: { js: "#!/usr/bin/env node" },
});
