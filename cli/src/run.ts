/**
 * The `maskline` command, as a function of its arguments, environment and output (main.ts binds it to the process),
 * so tests drive it in-process against a test server.
 */
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { CALL_DECISION_VALUES, PAGE_SIZE, SESSION_STATUS_VALUES } from "@maskline/openapi/constants";
import { Maskline, MasklineError, type CallDecision, type SessionStatus } from "@maskline/sdk";
import { connection, type Connection, type Env } from "./config.js";
import { parseNumbersCsv } from "./csv.js";
import { DEFAULT_BATCH, DEFAULT_POOL, importNumbers, MAX_BATCH, type RowResult } from "./import-numbers.js";
import { json, table, type Io } from "./output.js";

export const USAGE = `Usage: maskline <command> [options]

Operator (the operator token: --admin-token, MASKLINE_ADMIN_TOKEN, or the embedded service's .maskline/secrets.json):
  tenants create <name>                 a tenant and its first API key (the key is shown only now)
  tenants list
  keys create --tenant <id> [--name n]  another API key for a tenant
  keys revoke <key id> --tenant <id>    revoke a tenant's key (refused at once, its console sessions too)

Tenant (an API key: --api-key or MASKLINE_API_KEY):
  numbers import <file.csv> --app <id> [--pool ${DEFAULT_POOL}] [--column number] [--batch-size ${DEFAULT_BATCH}]
                                        DIDs from a CSV, one result per row: imported, duplicate, invalid, conflict
  sessions list [--status s] [--reference r] [--pool p] [--limit 50]
  calls list [--session id] [--decision d] [--limit 50]

Every command: --url <service> (MASKLINE_URL; default: the embedded service started from this folder, else
http://localhost:8080), --json for JSON instead of a table, --help.
`;

class UsageError extends Error {}

const OPTIONS = {
  url: { type: "string" },
  "api-key": { type: "string" },
  "admin-token": { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  tenant: { type: "string" },
  name: { type: "string" },
  app: { type: "string" },
  pool: { type: "string" },
  column: { type: "string" },
  "batch-size": { type: "string" },
  status: { type: "string" },
  reference: { type: "string" },
  session: { type: "string" },
  decision: { type: "string" },
  limit: { type: "string" },
} as const;

type Flags = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>["values"];

function operator(conn: Connection): Maskline {
  if (!conn.adminToken) throw new UsageError("this command needs the operator token: --admin-token or MASKLINE_ADMIN_TOKEN");
  return new Maskline({ adminToken: conn.adminToken, baseUrl: conn.url });
}

function tenant(conn: Connection): Maskline {
  if (!conn.apiKey) throw new UsageError("this command needs a tenant API key: --api-key or MASKLINE_API_KEY");
  return new Maskline({ apiKey: conn.apiKey, baseUrl: conn.url });
}

function whole(value: string | undefined, what: string, fallback: number, max = Infinity): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new UsageError(`${what} must be a whole number from 1${max === Infinity ? "" : ` to ${max}`}`);
  return n;
}

function oneOf<T extends string>(value: string | undefined, what: string, allowed: readonly T[]): T | undefined {
  if (value === undefined || (allowed as readonly string[]).includes(value)) return value as T | undefined;
  throw new UsageError(`${what} must be one of ${allowed.join(", ")}`);
}

function required(value: string | undefined, flag: string): string {
  if (!value) throw new UsageError(`--${flag} is required`);
  return value;
}

/** Rows to show: `--limit` of them (50 by default), fetched a page at a time. */
const pageOptions = (flags: Flags) => {
  const limit = whole(flags.limit, "--limit", 50);
  return { limit, page: Math.min(limit, PAGE_SIZE.maximum) };
};

async function dispatch(words: string[], flags: Flags, env: Env, io: Io): Promise<number> {
  const conn = connection(flags, env);
  const out = (rows: Array<Record<string, unknown>>, columns: string[], raw: unknown) =>
    io.stdout(flags.json ? json(raw) : rows.length ? table(rows as never, columns) : "(none)\n");
  const [group, verb, arg] = words;
  switch (`${group} ${verb}`) {
    case "tenants create": {
      const created = await operator(conn).admin.tenants.create({ name: required(arg ?? flags.name, "name") });
      if (flags.json) io.stdout(json(created));
      else {
        io.stdout(`tenant   ${created.tenant.id}  ${created.tenant.name}\n`);
        io.stdout(`api key  ${created.apiKey.id}  ${created.apiKey.secret}\n`);
        io.stderr("The API key is shown only now: keep it (MASKLINE_API_KEY) or give it to the tenant.\n");
      }
      return 0;
    }
    case "tenants list": {
      const { limit, page } = pageOptions(flags);
      const tenants = await operator(conn).admin.tenants.list({ limit: page }).toArray({ limit });
      out(tenants, ["id", "name", "createdAt"], tenants);
      return 0;
    }
    case "keys create": {
      const key = await operator(conn).admin.apiKeys.create(required(flags.tenant, "tenant"), flags.name ? { name: flags.name } : {});
      if (flags.json) io.stdout(json(key));
      else {
        io.stdout(`api key  ${key.id}  ${key.secret}\n`);
        io.stderr("The API key is shown only now: keep it.\n");
      }
      return 0;
    }
    case "keys revoke": {
      const keyId = required(arg, "key id (keys revoke <key id> --tenant <id>)");
      await operator(conn).admin.apiKeys.delete(required(flags.tenant, "tenant"), keyId);
      if (flags.json) io.stdout(json({ id: keyId, revoked: true }));
      else io.stdout(`revoked  ${keyId}\n`);
      return 0;
    }
    case "numbers import": {
      const file = required(arg, "file (numbers import <file.csv>)");
      const rows = parseNumbersCsv(await readFile(file, "utf8"), flags.column);
      const report = await importNumbers(tenant(conn), rows, {
        appId: required(flags.app, "app"),
        ...(flags.pool ? { pool: flags.pool } : {}),
        batchSize: whole(flags["batch-size"], "--batch-size", DEFAULT_BATCH, MAX_BATCH),
        onProgress: (done, total) => io.stderr(`  ${done}/${total} rows sent\n`),
      });
      const counts: Record<RowResult, number> = { imported: 0, duplicate: 0, invalid: 0, conflict: 0 };
      for (const row of report) counts[row.result]++;
      if (flags.json) io.stdout(json({ counts, rows: report }));
      else {
        io.stdout(table(report as never, ["line", "number", "result", "reason"]));
        io.stdout(Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(", ") + "\n");
      }
      return counts.invalid + counts.conflict > 0 ? 1 : 0;
    }
    case "sessions list": {
      const { limit, page } = pageOptions(flags);
      const query = {
        limit: page,
        ...(flags.status ? { status: oneOf<SessionStatus>(flags.status, "--status", SESSION_STATUS_VALUES)! } : {}),
        ...(flags.reference ? { reference: flags.reference } : {}),
        ...(flags.pool ? { pool: flags.pool } : {}),
      };
      const sessions = await tenant(conn).sessions.list(query).toArray({ limit });
      const rows = sessions.map((s) => ({
        id: s.id,
        status: s.status,
        pool: s.pool,
        reference: s.reference,
        participants: s.participants.map((p) => `${p.label ?? "?"} ${p.maskedNumber} via ${p.proxyNumber}`).join("; "),
        expiresAt: s.expiresAt,
      }));
      out(rows, ["id", "status", "pool", "reference", "participants", "expiresAt"], sessions);
      return 0;
    }
    case "calls list": {
      const { limit, page } = pageOptions(flags);
      const query = {
        limit: page,
        ...(flags.session ? { sessionId: flags.session } : {}),
        ...(flags.decision ? { decision: oneOf<CallDecision>(flags.decision, "--decision", CALL_DECISION_VALUES)! } : {}),
      };
      const calls = await tenant(conn).calls.list(query).toArray({ limit });
      out(calls, ["id", "sessionId", "proxyNumber", "decision", "status", "durationSeconds", "startedAt"], calls);
      return 0;
    }
    default:
      throw new UsageError(words.length ? `unknown command: ${words.join(" ")}` : "no command given");
  }
}

/** Runs one command line; resolves to the exit code (0 done, 1 failed or rows refused, 2 bad usage). */
export async function run(argv: string[], env: Env, io: Io): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    io.stderr(`maskline: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (parsed.values.help || parsed.positionals.length === 0) {
    (parsed.values.help ? io.stdout : io.stderr)(USAGE);
    return parsed.values.help ? 0 : 2;
  }
  try {
    return await dispatch(parsed.positionals, parsed.values, env, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`maskline: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    // The SDK's message already carries the status, the stable code, the detail and the request id.
    io.stderr(`maskline: ${err instanceof MasklineError || err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
