/**
 * Where the service is and which credentials to send: flags first, then the environment, then (for a service
 * started embedded on this machine) what it wrote into its data folder.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

export type Env = Record<string, string | undefined>;

export interface Connection {
  url: string;
  apiKey: string | undefined;
  adminToken: string | undefined;
}

export const DEFAULT_URL = "http://localhost:8080";

function readJson(path: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

const dataDir = (env: Env) => env.MASKLINE_DATA_DIR ?? ".maskline";

/**
 * The URL an embedded service started from this folder listens on: it writes `server.json` into its data folder
 * (`MASKLINE_DATA_DIR`, default `./.maskline`) when it starts, on whatever port.
 */
export function localServiceUrl(env: Env): string | undefined {
  const url = readJson(join(dataDir(env), "server.json"))?.url;
  return typeof url === "string" ? url : undefined;
}

/** The operator token an embedded service generated on its first start (`secrets.json` in its data folder). */
export function localAdminToken(env: Env): string | undefined {
  const token = readJson(join(dataDir(env), "secrets.json"))?.adminToken;
  return typeof token === "string" ? token : undefined;
}

/** `MASKLINE_URL`, else the local embedded service's address, else http://localhost:`PORT` (8080). */
export function serviceUrl(env: Env): string {
  const url = env.MASKLINE_URL ?? localServiceUrl(env) ?? (env.PORT ? `http://localhost:${env.PORT}` : DEFAULT_URL);
  return url.replace(/\/+$/, "");
}

export function connection(flags: { url?: string; "api-key"?: string; "admin-token"?: string }, env: Env): Connection {
  return {
    url: (flags.url ?? serviceUrl(env)).replace(/\/+$/, ""),
    apiKey: flags["api-key"] ?? env.MASKLINE_API_KEY,
    adminToken: flags["admin-token"] ?? env.MASKLINE_ADMIN_TOKEN ?? localAdminToken(env),
  };
}
