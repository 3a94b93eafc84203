import type { Knex } from "knex";
import type { Logger } from "pino";
import type { NewCallRow } from "../stores/calls.js";
import { findCallReplies, insertCallRows } from "../stores/calls.js";
import { newEventRow } from "./event-rows.js";
import { startedCall } from "./call-shape.js";

/**
 * The durable record of every decided call, written before the reply leaves (group commit).
 *
 * The call row is what makes the answer path idempotent and crash-safe: a retried CallUUID gets the stored reply
 * (the routing lookup reads it in the same statement), and by the time the carrier can send a hangup notice the row
 * exists with its decision. Nothing about it lives only in memory or only in Redis, so a killed process, a Redis
 * outage or a FLUSHALL cannot reopen a decided call or lose its record.
 *
 * Writing each row on its own would cost one commit per call. Instead, calls decided while a write is in flight
 * wait for the next one: the first call of a quiet moment is written at once, and under load each statement
 * carries every call of the previous write's duration (one insert, one commit, for all of them).
 *
 * A batch that fails is split: each row is retried on its own, so one row that cannot be written (edge validation
 * should make that impossible) fails only its own request, never another tenant's. Nothing is retried forever and
 * nothing is queued across a failure: every request learns within its own deadline whether its row is stored.
 *
 * Why this is not a job (the rule is that background work goes through the job runner and the outbox): none of it
 * is background work. The array below only gathers requests that are each still awaiting their own row; nothing
 * in it outlives its request, and nothing is written after the reply. A crash loses only rows whose carrier got no
 * reply, so it retries and is answered afresh. The hangup and dial-status notices are awaited the same way before
 * their 200 (a failure is a 503 the carrier redelivers). Turning the answer's write into a job would make the
 * carrier's reply wait for a poll, or go out before its decision is durable: both worse. Work a call should
 * trigger later (a tenant's event webhook) belongs in an outbox row written with the call row's insert: the
 * `call.started` event and its outbox row are written by the very statement that writes the call rows.
 */
export interface CallLog {
  /**
   * Stores the row. Resolves to null when this request's row was written, or to the stored reply (encrypted) of
   * the call that already had this (tenant, CallUUID). Rejects when the row could not be stored.
   */
  record(row: NewCallRow & { reply_enc: string }): Promise<string | null>;
  /** Waits for writes in flight (shutdown). */
  close(): Promise<void>;
}

const MAX_BATCH = 500;

interface Pending {
  row: NewCallRow & { reply_enc: string };
  resolve(earlier: string | null): void;
  reject(err: unknown): void;
}

const keyOf = (r: { tenant_id: string; call_uuid: string }) => `${r.tenant_id} ${r.call_uuid}`;

export function createCallLog(deps: { db: Knex; logger: Logger }): CallLog {
  let waiting: Pending[] = [];
  let writing: Promise<void> | null = null;

  /** One statement for the batch; the rows it did not write were already recorded (or are duplicates within it). */
  async function write(batch: Pending[]): Promise<void> {
    const firstByKey = new Map<string, Pending>();
    for (const p of batch) if (!firstByKey.has(keyOf(p.row))) firstByKey.set(keyOf(p.row), p);
    const rows = [...firstByKey.values()].map((p) => p.row);
    // Each call's `call.started` rides in the same statement; a row skipped as a repeat skips its event too. A call
    // still `pending` (asked for a PIN) says call.started when its digits decide it (services/pin-calls.ts).
    const started = rows
      .filter((r) => r.decision !== "pending")
      .map((r) => ({ callId: r.id, event: newEventRow(r.tenant_id, "call.started", startedCall(r), r.started_at) }));
    const written = await insertCallRows(deps.db, rows, started);
    const notWritten = batch.filter((p) => !written.has(p.row.id));
    const earlier = await findCallReplies(deps.db, notWritten.map((p) => p.row));
    for (const p of batch) {
      if (written.has(p.row.id)) p.resolve(null);
      // A row that lost to an earlier one gets that call's reply; the earlier row is written by now (same
      // statement, or committed before it).
      else p.resolve(earlier.get(keyOf(p.row)) ?? p.row.reply_enc);
    }
  }

  async function writeSplittingFailures(batch: Pending[]): Promise<void> {
    try {
      await write(batch);
    } catch (err) {
      if (batch.length === 1) {
        batch[0]!.reject(err);
        return;
      }
      deps.logger.warn({ err, rows: batch.length }, "call rows: batch write failed; writing each row on its own");
      await Promise.all(batch.map((p) => write([p]).catch((e: unknown) => p.reject(e))));
    }
  }

  function drain(): Promise<void> {
    writing ??= (async () => {
      while (waiting.length > 0) {
        const batch = waiting.slice(0, MAX_BATCH);
        waiting = waiting.slice(batch.length);
        await writeSplittingFailures(batch);
      }
    })().finally(() => {
      writing = null;
    });
    return writing;
  }

  return {
    record(row) {
      return new Promise<string | null>((resolve, reject) => {
        waiting.push({ row, resolve, reject });
        // Calls decided in the same tick join this batch; later ones join the next, behind the write in flight.
        if (!writing) queueMicrotask(() => void drain());
      });
    },
    async close() {
      while (writing || waiting.length > 0) await drain();
    },
  };
}
