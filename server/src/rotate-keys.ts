/**
 * `pnpm rotate-keys`: rotates the embedded instance's master key (docs/privacy.md, "Key rotation"). Stop the service
 * first: the embedded database has one process. It generates a new key and keeps the old one beside it in
 * secrets.json, re-encrypts everything under the old key with the same steps the `keys.rekey` job takes, and, once
 * nothing is left under the old key, removes it. Interrupted, it leaves both keys in place (the service works with
 * both, and re-encrypts in the background); running it again finishes the job.
 *
 * With DATABASE_URL the keys are the operator's: set MASKLINE_MASTER_KEY to the new key and
 * MASKLINE_MASTER_KEY_PREVIOUS to the old one on every replica, and follow GET /v1/admin/key-rotation.
 */
import { randomBytes } from "node:crypto";
import { ConfigError, loadConfig } from "./config.js";
import { buildRuntime } from "./bootstrap.js";
import { loadOrCreateEmbeddedSecrets, saveEmbeddedMasterKeys } from "./db/embedded-secrets.js";
import { REKEY_START, keyRotationStatus, rekeyStep } from "./services/key-rotation.js";

const say = (line: string) => process.stdout.write(line + "\n");

async function main() {
  // Before the configuration is read: on Postgres it would stop at the missing MASKLINE_MASTER_KEY, which is not
  // what someone who ran this needs to hear.
  if (process.env.DATABASE_URL?.trim()) {
    throw new ConfigError(
      "rotate-keys rotates the embedded instance's key; with DATABASE_URL set MASKLINE_MASTER_KEY (new) and " +
        "MASKLINE_MASTER_KEY_PREVIOUS (old) on every replica and follow GET /v1/admin/key-rotation",
    );
  }
  const config = loadConfig(process.env);
  if (config.masterKey) throw new ConfigError("MASKLINE_MASTER_KEY is set: rotate it with MASKLINE_MASTER_KEY_PREVIOUS instead");
  const secrets = loadOrCreateEmbeddedSecrets(config.dataDir);
  if (secrets.masterKeysPrevious.length === 0) {
    saveEmbeddedMasterKeys(secrets.path, randomBytes(32).toString("base64"), [secrets.masterKey]);
    say(`New master key generated into ${secrets.path}; the old one is kept until everything is re-encrypted.`);
  } else {
    say(`A rotation was under way (${secrets.path} holds an older key): finishing it.`);
  }
  const runtime = await buildRuntime(config);
  try {
    const { deps } = runtime;
    let progress = REKEY_START;
    let rewritten = 0;
    for (;;) {
      const step = await deps.db.transaction((trx) => rekeyStep(deps, trx, progress));
      rewritten += step.rewritten;
      progress = step.progress;
      if (step.passEnded) break;
    }
    const status = await keyRotationStatus(deps);
    say(`Re-encrypted ${rewritten} values under key ${status.currentKeyId}.`);
    if (!status.complete) {
      const left = Object.entries(status.remaining).filter(([, n]) => n > 0).map(([what, n]) => `${what}: ${n}`).join(", ");
      say(`Still under the old key: ${left}. The old key stays in secrets.json; the service keeps working with both.`);
      say("(PIN hashes are re-made when their PIN is next keyed, or go when their sessions end; run this again later.)");
      process.exitCode = 2;
      return;
    }
    saveEmbeddedMasterKeys(secrets.path, deps.config.masterKey!, []);
    say("Nothing is left under the old key: it is removed from secrets.json. Start the service as usual.");
  } finally {
    await runtime.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`maskline rotate-keys: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
