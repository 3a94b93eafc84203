import { defineConfig } from "tsup";

// The service runs as plain JavaScript: no TypeScript transpiler in the production process (tsx alone cost
// ~60 MB of resident memory). Dependencies stay external; our own code and the migrations are bundled.
export default defineConfig({
  entry: { main: "src/main.ts", migrate: "src/migrate.ts", "rotate-keys": "src/rotate-keys.ts" },
  format: ["esm"],
  platform: "node",
  target: "node20",
  outDir: "dist",
  clean: true,
  sourcemap: true,
  splitting: true,
  dts: false,
  noExternal: [/^@maskline\/openapi/],
});
