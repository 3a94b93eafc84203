import { setTimeout as sleep } from "node:timers/promises";
import type { Knex } from "knex";
import type { Logger } from "pino";
import type { Kv } from "../kv/kv.js";
import type { NewCallRow } from "../stores/calls.js";
import { insertCallRows } from "../stores/calls.js";

/**
 * Call rows are written behind the reply. The carrier is waiting for XML; the row can follow a few milliseconds
 * later, in a batch with every other call of those milliseconds (one insert and one commit instead of one each).
 *
 * What must not wait is idempotency: the CallUUID is claimed in kv before the reply (Redis with REDIS_URL, so it
 * holds across replicas), together with the encrypted reply, so a retried CallUUID gets the same bytes whether or
 * not its row has reached Postgres yet. The insert itself is still `ON CONFLICT DO NOTHING` on (tenant, CallUUID).
 *
 * Rows are never dropped: a failed batch is retried with backoff, `flush()` (run on shutdown and before anything
 * reads calls on this replica) waits until the queue is written. A crash can lose the rows of the last
 * FLUSH_EVERY_MS; the calls themselves were answered correctly.
 */
export interface CallLog {
  /**
   * Claims the CallUUID and queues the row: null when this call is new, otherwise the reply (encrypted) the first
   * request for this CallUUID was given.
   */
  record(row: NewCallRow & { reply_enc: string }): Promise<string | null>;
  /** True while this CallUUID's row may still be on its way to Postgres (here or on another replica). */
  isPending(tenantId: string, callUuid: string): Promise<boolean>;
  /** Resolves when every row queued so far is in Postgres. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

const FLUSH_EVERY_MS = 5;
const MAX_BATCH = 500;
/** Kept long after any carrier retry; the row in Postgres remains the lasting record. */
const CLAIM_TTL_MS = 6 * 3600_000;
const claimKey = (tenantId: string, callUuid: string) => `vobiz:call:${tenantId}:${callUuid}`;

export function createCallLog(deps: { db: Knex; kv: Kv; logger: Logger }): CallLog {
  let queue: NewCallRow[] = [];
  let timer: NodeJS.Timeout | null = null;
  let writing: Promise<void> | null = null;
  let failures = 0;

  async function writeAll(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.slice(0, MAX_BATCH);
      try {
        await insertCallRows(deps.db, batch);
        queue = queue.slice(batch.length);
        failures = 0;
      } catch (err) {
        failures++;
        deps.logger.error({ err, rows: batch.length, failures }, "call rows not written yet; retrying");
        await sleep(Math.min(2_000, 50 * 2 ** Math.min(failures, 6)));
      }
    }
  }

  function startWriting(): Promise<void> {
    if (!writing) {
      writing = writeAll().finally(() => {
        writing = null;
        if (queue.length > 0) schedule();
      });
    }
    return writing;
  }

  function schedule() {
    if (timer || writing) return;
    timer = setTimeout(() => {
      timer = null;
      void startWriting();
    }, FLUSH_EVERY_MS);
  }

  return {
    async record(row) {
      const claimed = await deps.kv.setIfAbsent(claimKey(row.tenant_id, row.call_uuid), row.reply_enc, CLAIM_TTL_MS);
      if (!claimed) return (await deps.kv.get(claimKey(row.tenant_id, row.call_uuid))) ?? row.reply_enc;
      queue.push(row);
      if (queue.length >= MAX_BATCH) void startWriting();
      else schedule();
      return null;
    },
    async isPending(tenantId, callUuid) {
      return (await deps.kv.get(claimKey(tenantId, callUuid))) !== null;
    },
    async flush() {
      if (timer) {
        clearTimeout(timer);
        timer = null;
      }
      while (queue.length > 0 || writing) await startWriting();
    },
    async close() {
      await this.flush();
    },
  };
}
