import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// The console is served by the service at /console (server/src/http/console-assets.ts): every asset under
// /console/assets/ with a content hash in its name, nothing inline (the page's CSP forbids inline script and style),
// nothing from another origin.
export default defineConfig({
  base: "/console/",
  root: fileURLToPath(new URL(".", import.meta.url)),
  resolve: {
    // The SDK's webhook verification imports node:crypto (written `crypto` in its build); the console never verifies
    // webhooks, so the browser build gets a stand-in that says so if it is ever called (src/node-crypto-stub.ts).
    alias: [{ find: /^(node:)?crypto$/, replacement: fileURLToPath(new URL("./src/node-crypto-stub.ts", import.meta.url)) }],
  },
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsDir: "assets",
    // A data: URL would need the CSP widened; every asset stays a file.
    assetsInlineLimit: 0,
    sourcemap: false,
    target: "es2022",
    modulePreload: { polyfill: false },
  },
});
