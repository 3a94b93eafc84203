/**
 * Bulk-loads live sessions through the real schema and the real encryption: rows are built here with the server's
 * own keyring (same master key), ids (newId) and masking (maskNumber), and streamed with COPY. Nothing in the schema
 * is disabled: every index, the partial unique index of the allocation invariant, and every foreign key is checked
 * row by row as usual.
 *
 * The population respects the allocation invariant (a person and a DID meet in at most one active row):
 *   - `busyShare` of the sessions belong to busy people ("drivers"), each in 2..`maxPerBusy` concurrent sessions
 *     on distinct DIDs;
 *   - everyone else (the other agents, and every customer) is in exactly one session, on a random DID.
 * Afterwards: VACUUM (ANALYZE) of both tables, ANALYZE of every other table holding rows, CHECKPOINT (all inside the
 * preload time).
 * Generation of chunk k+1 overlaps the COPY of chunk k's participants (a second connection), and the generator
 * yields to the event loop between batches so the COPY socket keeps draining.
 */
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { newId } from "../../server/src/crypto/ids.js";
import type { Keyring } from "../../server/src/crypto/keyring.js";
import { maskNumber } from "../../server/src/phone/numbers.js";
import { PRELOAD_PREFIX, person, rng } from "./people.js";
import type { BenchTenant } from "./setup.js";

const SESSIONS_COPY = `COPY sessions (id, tenant_id, app_id, pool, mode, status, metadata, expires_at) FROM STDIN`;
const PARTICIPANTS_COPY =
  `COPY participants (id, tenant_id, session_id, position, label, number_enc, number_bidx, masked_number, proxy_number_id) FROM STDIN`;

export interface PreloadOptions {
  busyShare: number;
  maxPerBusy: number;
  /** Sessions per COPY chunk. */
  chunk: number;
  /** How many [From, To] routes to keep (uniform reservoir over every preloaded participant). */
  reservoirSize: number;
  /** Lifetime of preloaded sessions: far beyond the run. */
  ttlSeconds: number;
}

export interface PreloadState {
  nextPerson: number;
  sessions: number;
  participantsSeen: number;
  routes: Array<[string, string]>;
  random: () => number;
  busyPeople: number;
  maxConcurrency: number;
}

export const newPreloadState = (seed = 42): PreloadState => ({
  nextPerson: 0,
  sessions: 0,
  participantsSeen: 0,
  routes: [],
  random: rng(seed),
  busyPeople: 0,
  maxConcurrency: 1,
});

interface Person {
  e164: string;
  bidx: string;
  masked: string;
}

interface Busy extends Person {
  remaining: number;
  didStart: number;
  used: number;
}

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

async function copyLines(db: pg.Client, sql: string, lines: string[]): Promise<void> {
  const BATCH = 2_000;
  async function* batches() {
    for (let i = 0; i < lines.length; i += BATCH) yield lines.slice(i, i + BATCH).join("");
  }
  await pipeline(Readable.from(batches()), db.query(copyFrom(sql)));
}

export interface PreloadResult {
  sessions: number;
  participants: number;
  generateAndCopyMs: number;
  vacuumAnalyzeMs: number;
  totalMs: number;
  sessionsPerSecond: number;
}

/**
 * Adds `count` live sessions. `dbA` and `dbB` are two connections to the bench database (sessions and
 * participants are copied on different ones so they overlap).
 */
export async function preloadSessions(
  dbA: pg.Client,
  dbB: pg.Client,
  keys: Keyring,
  tenant: BenchTenant,
  count: number,
  state: PreloadState,
  opts: PreloadOptions,
): Promise<PreloadResult> {
  const t0 = performance.now();
  const expiresAt = new Date(Date.now() + opts.ttlSeconds * 1000).toISOString();
  const didCount = tenant.dids.length;
  const newPerson = (): Person => {
    const e164 = person(PRELOAD_PREFIX, state.nextPerson++);
    return { e164, bidx: keys.blindIndex(e164), masked: maskNumber(e164) };
  };
  const keep = (from: string, didIndex: number) => {
    // Algorithm R: every participant row seen so far is in the reservoir with equal probability.
    state.participantsSeen++;
    const route: [string, string] = [from, tenant.dids[didIndex]!.number];
    if (state.routes.length < opts.reservoirSize) state.routes.push(route);
    else {
      const j = Math.floor(state.random() * state.participantsSeen);
      if (j < opts.reservoirSize) state.routes[j] = route;
    }
  };
  let busy: Busy | undefined;
  const nextBusy = (): Busy => {
    const p = newPerson();
    const sessions = 2 + Math.floor(state.random() * (opts.maxPerBusy - 1));
    state.busyPeople++;
    state.maxConcurrency = Math.max(state.maxConcurrency, sessions);
    return { ...p, remaining: sessions, didStart: Math.floor(state.random() * didCount), used: 0 };
  };

  let pending: Promise<void> = Promise.resolve();
  let done = 0;
  let participants = 0;
  while (done < count) {
    const n = Math.min(opts.chunk, count - done);
    const sessionLines: string[] = [];
    const participantLines: string[] = [];
    for (let i = 0; i < n; i++) {
      if (i % 1_000 === 999) await yieldToLoop();
      const sessionId = newId("ses");
      sessionLines.push(`${sessionId}\t${tenant.tenantId}\t${tenant.appId}\t${tenant.pool}\ttwo_way\topen\t{}\t${expiresAt}\n`);

      let agent: Person;
      let agentDid: number;
      let agentLabel: string;
      if (state.random() < opts.busyShare) {
        if (!busy || busy.remaining === 0) busy = nextBusy();
        agent = busy;
        // Consecutive DIDs from a random start: distinct for this person as long as maxPerBusy ≤ the pool.
        agentDid = (busy.didStart + busy.used++) % didCount;
        busy.remaining--;
        agentLabel = "driver";
      } else {
        agent = newPerson();
        agentDid = Math.floor(state.random() * didCount);
        agentLabel = "agent";
      }
      const customer = newPerson();
      const customerDid = Math.floor(state.random() * didCount);
      for (const [position, who, did, label] of [
        [0, agent, agentDid, agentLabel],
        [1, customer, customerDid, "customer"],
      ] as const) {
        participantLines.push(
          `${newId("par")}\t${tenant.tenantId}\t${sessionId}\t${position}\t${label}\t${keys.encrypt(who.e164)}\t` +
            `${who.bidx}\t${who.masked}\t${tenant.dids[did]!.id}\n`,
        );
        keep(who.e164, did);
      }
    }
    await copyLines(dbA, SESSIONS_COPY, sessionLines);
    await pending;
    pending = copyLines(dbB, PARTICIPANTS_COPY, participantLines);
    done += n;
    participants += participantLines.length;
  }
  await pending;
  const t1 = performance.now();
  // VACUUM as well as ANALYZE: fresh statistics, and a visibility map so autovacuum does not start mid-measurement.
  await dbA.query("VACUUM (ANALYZE) sessions");
  await dbA.query("VACUUM (ANALYZE) participants");
  // And statistics for every other table that holds rows (the DIDs imported a moment ago would otherwise wait for
  // autovacuum). Not for an empty one (calls, at the first level): statistics saying "empty" would outlive the rows
  // the measurements then write (autovacuum is off on CI's Postgres), and the plans made from them scan the table.
  const { rows: tables } = await dbA.query<{ name: string }>(
    `SELECT quote_ident(tablename) AS name FROM pg_tables WHERE schemaname = 'public' AND tablename NOT IN ('sessions', 'participants')`,
  );
  for (const { name } of tables) {
    const { rows } = await dbA.query(`SELECT 1 FROM ${name} LIMIT 1`);
    if (rows.length > 0) await dbA.query(`ANALYZE ${name}`);
  }
  // Write the load's dirty pages out now: otherwise the checkpoint its WAL volume triggers runs (spread over minutes)
  // during the next measurements, and its sync phase stalls commits there. Steady traffic has checkpoints too, but
  // not this burst.
  await dbA.query("CHECKPOINT").catch(() => undefined);
  // Push these connections' pending statistics out now (Postgres 15+), so the COPY's counters do not land inside
  // the next measurement's pg_stat_database deltas (an idle backend may otherwise hold them for ~10 s).
  for (const db of [dbA, dbB]) {
    await db.query("SELECT pg_stat_force_next_flush()").catch(() => undefined);
    await db.query("SELECT 1");
  }
  const t2 = performance.now();
  state.sessions += count;
  return {
    sessions: count,
    participants,
    generateAndCopyMs: Math.round(t1 - t0),
    vacuumAnalyzeMs: Math.round(t2 - t1),
    totalMs: Math.round(t2 - t0),
    sessionsPerSecond: Math.round((count * 1000) / (t2 - t0)),
  };
}
