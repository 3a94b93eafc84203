/**
 * Who sent a statement, for the tenant-filter audit (test/support/sql-audit-setup.ts). The stack at send time is not
 * enough: a statement that waited for a pool connection, or a builder handed on unawaited, reaches knex with no
 * frame of the code that wrote it. So every knex builder (a query builder or a raw statement) records where it was
 * built, which is always a synchronous frame of its author, and the statement knex runs is attributed to its
 * builder's birthplace. Statements sent without a builder (knex's own BEGIN/COMMIT, the pg-mode prepared statements
 * of server/src/db/prepared.ts) fall back to the stack they were sent with.
 */
import { createRequire } from "node:module";

type Fn = (this: unknown, ...args: unknown[]) => unknown;
type Proto = Record<string, Fn>;

export interface Origin {
  /** server: server/src outside the db layer; test: test/; migration: migrations/; other: nothing of ours. */
  kind: "server" | "test" | "migration" | "other";
  /** `<path under the repository>#<function>`, or "?" when no frame names a file of ours. */
  frame: string;
}

const REPO_ROOT = new URL("../../", import.meta.url).pathname;
const BUILT_AT = Symbol("sql-audit built at");
/** Frames enough to reach the author past knex's own (as server/src/db/statement-audit.ts). */
const STACK_FRAMES = 40;

/** Where a statement came from: the first frame of the stack outside knex, node and server/src/db. */
export function originOf(stack: string): Origin {
  for (const line of stack.split("\n").slice(1)) {
    const m = /at (?:async )?(?:(\S+) \()?(\/[^):]+):\d+:\d+\)?/.exec(line);
    if (!m) continue;
    const file = m[2]!;
    if (file.includes("/node_modules/") || file.includes("/server/src/db/") || file.endsWith("/sql-audit-origin.ts")) continue;
    const path = file.startsWith(REPO_ROOT) ? file.slice(REPO_ROOT.length) : file;
    const fn = (m[1] ?? "").replace(/^(Module|Object|Function)\./, "");
    const frame = `${path}#${fn}`;
    if (path.startsWith("server/src/")) return { kind: "server", frame };
    if (path.startsWith("migrations/")) return { kind: "migration", frame };
    if (path.startsWith("test/")) return { kind: "test", frame };
    return { kind: "other", frame };
  }
  return { kind: "other", frame: "?" };
}

let running: { [BUILT_AT]?: { stack?: string } } | undefined;

/**
 * Makes knex (the copy the server loads) record each builder's birthplace and say which builder is running while it
 * announces a statement (its "query" event is emitted synchronously inside Runner#query). Idempotent.
 */
export function trackBuilderOrigins(): void {
  const require = createRequire(new URL("../../server/src/db/database.ts", import.meta.url));
  const Runner = require("knex/lib/execution/runner.js") as { prototype: Proto & { __auditTracked?: true } };
  if (Runner.prototype.__auditTracked) return;
  Runner.prototype.__auditTracked = true;
  const Client = require("knex/lib/client.js") as { prototype: Proto };
  const ClientPg = require("knex/lib/dialects/postgres/index.js") as { prototype: Proto };
  for (const proto of [Client.prototype, ClientPg.prototype]) {
    for (const name of ["queryBuilder", "raw"]) {
      if (!Object.hasOwn(proto, name)) continue;
      const build = proto[name]!;
      proto[name] = function (this: unknown, ...args: unknown[]) {
        const builder = build.apply(this, args) as Record<symbol, unknown>;
        const limit = Error.stackTraceLimit;
        Error.stackTraceLimit = STACK_FRAMES;
        const at: { stack?: string } = {};
        Error.captureStackTrace(at); // formatted only if read
        Error.stackTraceLimit = limit;
        builder[BUILT_AT] = at;
        return builder;
      };
    }
  }
  const query = Runner.prototype.query!;
  Runner.prototype.query = function (this: unknown, ...args: unknown[]) {
    const outer = running;
    running = (this as { builder?: typeof running }).builder;
    try {
      return query.apply(this, args);
    } finally {
      running = outer;
    }
  };
}

/** The origin of the statement being announced: its builder's birthplace, else the stack it was sent with. */
export function statementOrigin(sendStack: string): Origin {
  const builtAt = running?.[BUILT_AT]?.stack;
  return originOf(builtAt ?? sendStack);
}
