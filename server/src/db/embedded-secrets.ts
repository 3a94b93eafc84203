import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync, chmodSync } from "node:fs";
import { join, resolve } from "node:path";

export interface EmbeddedSecrets {
  adminToken: string;
  masterKey: string;
  /** Older master keys while `pnpm rotate-keys` re-encrypts (server/src/rotate-keys.ts); usually none. */
  masterKeysPrevious: string[];
  /** The Ed25519 seed that signs events (base64 of 32 bytes); added to files written before events existed. */
  signingKey: string;
  /** True only on the run that generated them: the one time they are printed. */
  created: boolean;
  path: string;
}

/**
 * Embedded mode keeps its generated admin token and master key beside the database, readable by the owner
 * only (0600), so a restart finds the same keys, the encrypted data stays readable and receivers keep verifying
 * event signatures against the same published key.
 */
export function loadOrCreateEmbeddedSecrets(dataDir: string): EmbeddedSecrets {
  const dir = resolve(dataDir);
  const path = join(dir, "secrets.json");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (existsSync(path)) {
    const parsed = JSON.parse(readFileSync(path, "utf8")) as Partial<EmbeddedSecrets>;
    if (typeof parsed.adminToken !== "string" || typeof parsed.masterKey !== "string") {
      throw new Error(`${path} is damaged: it must hold adminToken and masterKey`);
    }
    if (typeof parsed.signingKey !== "string") {
      // Written by a release before events: the signing key joins the existing secrets, which stay as they were.
      const upgraded = { adminToken: parsed.adminToken, masterKey: parsed.masterKey, signingKey: randomBytes(32).toString("base64") };
      writeFileSync(path, JSON.stringify(upgraded, null, 2) + "\n", { mode: 0o600 });
      chmodSync(path, 0o600);
      return { ...upgraded, masterKeysPrevious: [], created: false, path };
    }
    const previous = Array.isArray(parsed.masterKeysPrevious) ? parsed.masterKeysPrevious.filter((k) => typeof k === "string") : [];
    return {
      adminToken: parsed.adminToken,
      masterKey: parsed.masterKey,
      masterKeysPrevious: previous,
      signingKey: parsed.signingKey,
      created: false,
      path,
    };
  }
  const secrets = {
    adminToken: `mk_admin_${randomBytes(24).toString("base64url")}`,
    masterKey: randomBytes(32).toString("base64"),
    signingKey: randomBytes(32).toString("base64"),
  };
  writeFileSync(path, JSON.stringify(secrets, null, 2) + "\n", { mode: 0o600, flag: "wx" });
  chmodSync(path, 0o600);
  return { ...secrets, masterKeysPrevious: [], created: true, path };
}

/**
 * Rewrites the embedded secrets with another set of master keys (server/src/rotate-keys.ts): written to a new file
 * and renamed over the old, so a crash leaves one whole file, never a half-written one.
 */
export function saveEmbeddedMasterKeys(path: string, masterKey: string, masterKeysPrevious: string[]): void {
  const current = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  const next = { ...current, masterKey, masterKeysPrevious };
  if (masterKeysPrevious.length === 0) delete (next as { masterKeysPrevious?: unknown }).masterKeysPrevious;
  const temporary = `${path}.next`;
  writeFileSync(temporary, JSON.stringify(next, null, 2) + "\n", { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
}
