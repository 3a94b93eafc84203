/**
 * What is left of one person in the stores, for the erasure tests: every trace of their number in a dump of the
 * database and of Redis. A trace is the number in any written form, one of its blind indexes (under every live key),
 * or a ciphertext anywhere in the dump that decrypts to text containing the number.
 *
 * The database dump is `pg_dump` when the tests run on Postgres (as an operator would take it), else every row of
 * every table of the embedded database as JSON. Redis is dumped key by key (strings, hashes, lists, sets, sorted
 * sets) when the tests run on it.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import type { TestServer } from "./harness.js";
import { testDatabaseUrl, testRedisUrl } from "./env.js";
import { numberForms } from "./privacy.js";

const run = promisify(execFile);
/** `v1.<keyId>.<iv>.<ciphertext>.<tag>`, as crypto/keyring.ts writes them. */
const CIPHERTEXT = /v1\.[0-9a-f]{8}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]{22}/g;

async function databaseDump(server: TestServer): Promise<string> {
  if (testDatabaseUrl) {
    const { stdout } = await run("pg_dump", ["--data-only", "--no-owner", testDatabaseUrl], { maxBuffer: 1 << 30 });
    return stdout;
  }
  const tables = (await server.deps.db.raw("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).rows as Array<{ tablename: string }>;
  const parts: string[] = [];
  for (const { tablename } of tables) {
    const rows = (await server.deps.db.raw(`SELECT row_to_json(t)::text AS row FROM "${tablename}" t`)).rows as Array<{ row: string }>;
    for (const r of rows) parts.push(r.row);
  }
  return parts.join("\n");
}

async function redisDump(): Promise<string> {
  if (!testRedisUrl) return "";
  const redis = new Redis(testRedisUrl, { lazyConnect: true, maxRetriesPerRequest: 2 });
  await redis.connect();
  const out: string[] = [];
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "COUNT", "1000");
      cursor = next;
      for (const key of keys) {
        out.push(key);
        const type = await redis.type(key);
        if (type === "string") out.push((await redis.get(key)) ?? "");
        else if (type === "hash") out.push(JSON.stringify(await redis.hgetall(key)));
        else if (type === "list") out.push(JSON.stringify(await redis.lrange(key, 0, -1)));
        else if (type === "set") out.push(JSON.stringify(await redis.smembers(key)));
        else if (type === "zset") out.push(JSON.stringify(await redis.zrange(key, "0", "-1")));
      }
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
  return out.join("\n");
}

/** The traces of `e164` in `text`: its forms, its blind indexes, and ciphertexts that decrypt to it. */
function tracesIn(server: TestServer, text: string, e164: string, where: string): string[] {
  const found: string[] = [];
  for (const form of numberForms(e164)) {
    const at = text.indexOf(form);
    if (at !== -1) found.push(`${where}: the number (${form.slice(0, 4)}…) in …${text.slice(Math.max(0, at - 120), at).replace(/\d{7,}/g, "#")}`);
  }
  for (const bidx of server.deps.keys.blindIndexes(e164)) if (text.includes(bidx)) found.push(`${where}: its blind index`);
  for (const token of text.match(CIPHERTEXT) ?? []) {
    let plain: string;
    try {
      plain = server.deps.keys.decrypt(token);
    } catch {
      continue; // another key's (another run's data on a shared database)
    }
    if (numberForms(e164).some((form) => plain.includes(form))) found.push(`${where}: a ciphertext that decrypts to it`);
  }
  return found;
}

/** Every trace of the person left in the database and Redis dumps (empty: nothing can reveal them). */
export async function residueOf(server: TestServer, e164: string): Promise<string[]> {
  return [...tracesIn(server, await databaseDump(server), e164, "database"), ...tracesIn(server, await redisDump(), e164, "redis")];
}
