/**
 * Master-key rotation (docs/privacy.md, "Key rotation"). With MASKLINE_MASTER_KEY the new key and
 * MASKLINE_MASTER_KEY_PREVIOUS the old ones, every read decrypts with whichever key a ciphertext names, every write
 * uses the new one, lookups by blind index try each key's index (services/answer.ts, allocation.ts, pin-calls.ts),
 * and `keys.rekey` (jobs/rekey.ts) re-encrypts what is left under an old key, re-making its blind index, in passes
 * over every encrypted column. The status says what is left; once it is nothing, the old keys can be removed.
 *
 * PIN hashes are the exception: a hash cannot be re-made without the PIN, so each is re-made when its PIN is next
 * keyed; the status counts the live ones still under an old key (they also go when their sessions end).
 */
import type { Knex } from "knex";
import type { Deps } from "../deps.js";
import { ERASE_KIND } from "./erasures.js";
import * as store from "../stores/key-rotation.js";
import type { Cursor } from "../stores/key-rotation.js";
import { iso, type Schemas } from "./shapes.js";

const BATCH = 500;

/** Where the walk has got to: which column (by its place in ENCRYPTED_COLUMNS), after which key. */
export interface RekeyProgress {
  column: number;
  after: Cursor;
}

export const REKEY_START: RekeyProgress = Object.freeze({ column: 0, after: null });

/**
 * Walks the encrypted columns from `progress`, one after the other, re-encrypting what is under an old key, until
 * about `budget` rows were read; returns where it got to, and whether a whole pass ended (the walk then starts over:
 * a replica still on the old key may have written behind it, which the status's count would show).
 */
export async function rekeyStep(
  deps: Pick<Deps, "keys">,
  db: Knex,
  progress: RekeyProgress,
  budget = 20 * BATCH,
): Promise<{ progress: RekeyProgress; rewritten: number; passEnded: boolean }> {
  let { column, after } = progress;
  let read = 0;
  let rewritten = 0;
  while (column < store.ENCRYPTED_COLUMNS.length && read < budget) {
    const col = store.ENCRYPTED_COLUMNS[column]!;
    const rows = await store.encryptedBatch(db, col, after, BATCH);
    read += rows.length;
    for (const row of rows) {
      if (deps.keys.isCurrent(row.value)) continue;
      const plaintext = deps.keys.decrypt(row.value);
      const bidx = col.bidx ? deps.keys.blindIndex(plaintext) : undefined;
      if (await store.rewriteEncrypted(db, col, row, deps.keys.encrypt(plaintext), bidx)) rewritten += 1;
    }
    if (rows.length < BATCH) {
      column += 1;
      after = null;
    } else {
      after = rows[rows.length - 1]!.key;
    }
  }
  if (column < store.ENCRYPTED_COLUMNS.length) return { progress: { column, after }, rewritten, passEnded: false };
  for (const job of await store.pendingErasurePayloads(db, ERASE_KIND)) {
    if (!deps.keys.isCurrent(job.number_enc)) {
      await store.rewriteErasurePayload(db, job.id, deps.keys.encrypt(deps.keys.decrypt(job.number_enc)));
      rewritten += 1;
    }
  }
  return { progress: REKEY_START, rewritten, passEnded: true };
}

export async function keyRotationStatus(deps: Pick<Deps, "db" | "keys" | "clock">): Promise<Schemas["KeyRotationStatus"]> {
  const prefix = `v1.${deps.keys.keyId}.`;
  const remaining: Record<string, number> = {};
  for (const col of store.ENCRYPTED_COLUMNS) remaining[col.name] = await store.countUnderPreviousKeys(deps.db, col, prefix);
  remaining.pinHashes = await store.countPinHashesUnderPreviousKeys(deps.db, deps.keys.keyId);
  remaining.erasuresQueued = (await store.pendingErasurePayloads(deps.db, ERASE_KIND)).filter((j) => !deps.keys.isCurrent(j.number_enc)).length;
  return {
    currentKeyId: deps.keys.keyId,
    previousKeyIds: [...deps.keys.previousKeyIds],
    remaining,
    complete: Object.values(remaining).every((n) => n === 0),
    checkedAt: iso(deps.clock.now()),
  };
}
