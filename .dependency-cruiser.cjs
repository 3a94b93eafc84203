/**
 * The server's layers, as docs/architecture.md ("Layers") describes them, checked by `pnpm lint:layers` in CI.
 * A request goes route → service → store; `domain/` is pure; the infrastructure modules sit under every layer.
 * There is no exceptions list: a module that needs one belongs in another layer.
 */
const SRC = "^server/src/";

/** Entry points and the composition root: only these may see every layer. */
const ENTRY = `${SRC}(main|migrate|rotate-keys|app|bootstrap)\\.ts$`;
/** The route layer: routes and the HTTP middleware they are built from. */
const ROUTE = `${SRC}(routes|http)/`;
const SERVICE = `${SRC}(services|jobs)/`;
const STORE = `${SRC}stores/`;
const DOMAIN = `${SRC}domain/`;
/** The carrier's formats: renders domain decisions as Vobiz XML, checks Vobiz signatures. */
const CARRIER = `${SRC}vobiz/`;
/** Below every layer: configuration, connections, keys, clocks, logging, phone numbers, errors, outbound HTTP to tenants and the carrier. */
const INFRA = `${SRC}(config\\.ts$|errors\\.ts$|crypto/|db/|kv/|time/|logging/|phone/|outbound/|carrier/|metrics/)`;
/** What a domain module may import besides domain/: pure helpers (no I/O, no state) and the spec's types. */
const PURE_HELPERS = `${SRC}(errors\\.ts$|phone/)|^openapi/generated/`;
/** Packages and core modules that do I/O, or hold a connection, a server or a logger. */
const IO = [
  "(^|/)node_modules/(knex|knex-pglite|pg|pg-copy-streams|@electric-sql/pglite|ioredis|koa|@koa/[^/]+|pino|undici)/",
  "^(node:)?(fs|fs/promises|net|http|https|http2|dgram|dns|child_process|cluster|worker_threads|tls|timers|timers/promises|process|readline|stream)$",
];

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "A cycle makes two modules one: neither can be read, tested or moved alone.",
      from: { path: "^(server|sdk)/src/" },
      to: { circular: true },
    },
    {
      name: "no-orphans",
      severity: "error",
      comment: "A module nothing imports and that imports nothing is dead code.",
      from: { orphan: true, path: SRC, pathNot: "\\.d\\.ts$" },
      to: {},
    },
    {
      name: "domain-imports-only-pure-modules",
      severity: "error",
      comment: "domain/ is pure: it imports domain/, pure helpers and the spec's types, nothing with I/O or state.",
      from: { path: DOMAIN },
      to: { pathNot: [DOMAIN, PURE_HELPERS] },
    },
    {
      name: "domain-reaches-no-io",
      severity: "error",
      comment: "Not even through a helper: nothing a domain module imports, however indirectly, does I/O.",
      from: { path: DOMAIN },
      to: { path: IO, reachable: true },
    },
    {
      name: "stores-import-no-upper-layer",
      severity: "error",
      comment: "Stores are knex queries returning rows: they take a connection, never deps, a service or a request.",
      from: { path: STORE },
      to: { path: [ROUTE, SERVICE, ENTRY, `${SRC}deps\\.ts$`] },
    },
    {
      name: "services-import-no-route-layer",
      severity: "error",
      comment: "Services (and the jobs, which are services on a timer) hold the rules; they know nothing of HTTP.",
      from: { path: SERVICE },
      to: { path: [ROUTE, ENTRY] },
    },
    {
      name: "route-layer-imports-no-store",
      severity: "error",
      comment: "Routes and middleware go through a service, for reads, writes and row types alike.",
      from: { path: ROUTE },
      to: { path: STORE },
    },
    {
      name: "only-app-imports-routes",
      severity: "error",
      comment: "app.ts registers the routes; nothing else, another route included, depends on one.",
      from: { pathNot: `${SRC}app\\.ts$` },
      to: { path: `${SRC}routes/` },
    },
      {
      name: "deps-names-only-types",
      severity: "error",
      comment: "deps.ts describes the container bootstrap.ts builds: it names the layers' types, never runs their code.",
      from: { path: `${SRC}deps\\.ts$` },
      to: { path: SERVICE, dependencyTypesNot: ["type-only"] },
    },
    {
      name: "deps-imports-no-route-store-or-entry",
      severity: "error",
      comment: "The container holds connections and services; routes, stores and the entry points are not in it.",
      from: { path: `${SRC}deps\\.ts$` },
      to: { path: [ROUTE, STORE, ENTRY] },
    },
    {
      name: "carrier-formats-import-only-domain-and-infrastructure",
      severity: "error",
      comment: "vobiz/ turns decisions into the carrier's bytes and back; it calls no service and reads no store.",
      from: { path: CARRIER },
      to: { path: [ROUTE, SERVICE, STORE, ENTRY, `${SRC}deps\\.ts$`] },
    },
    {
      name: "infrastructure-imports-no-layer",
      severity: "error",
      comment: "Config, connections, keys, clocks, logging, numbers and carrier formats sit under every layer.",
      from: { path: INFRA },
      to: { path: [ROUTE, SERVICE, STORE, DOMAIN, CARRIER, ENTRY, `${SRC}deps\\.ts$`] },
    },
    {
      name: "no-unresolvable",
      severity: "error",
      comment: "An import the checker cannot resolve is one no rule above can judge.",
      from: { path: "^(server|sdk)/src/" },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^|/)(dist|generated)/.*\\.js$" },
    tsPreCompilationDeps: true,
    combinedDependencies: false,
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      extensions: [".ts", ".js", ".json"],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
