/**
 * `maskline numbers import`: a CSV of DIDs into a pool, in batches, with one result per row.
 *
 * The API imports a batch all or nothing (422 names the invalid entries, 409 refuses the whole batch when one DID is
 * held elsewhere), so a batch that fails is taken apart: invalid entries are set aside and the rest sent again; a
 * conflicting batch is halved until the conflicting rows stand alone. Re-sending a DID already imported is harmless
 * (the API returns it unchanged), which is also how rows that repeat one number are told apart: the reply lists each
 * number once, so a batch whose reply is shorter than the batch is halved until every row maps to its own number.
 */
import { ConflictError, ValidationError, type MaskingNumber, type Maskline } from "@maskline/sdk";
import { PAGE_SIZE, PROPERTY_LIMITS, SCHEMA_DEFAULTS } from "@maskline/openapi/constants";
import type { CsvRow } from "./csv.js";
import { maskNumber } from "./output.js";

/** The most numbers one request may carry (the spec's maxItems). */
export const MAX_BATCH = PROPERTY_LIMITS.ImportNumbersRequest.numbers.maxItems;
export const DEFAULT_BATCH = 500;
export const DEFAULT_POOL = SCHEMA_DEFAULTS.ImportNumbersRequest.pool;

export type RowResult = "imported" | "duplicate" | "invalid" | "conflict";

export interface ReportRow {
  line: number;
  /** The row's number with its middle hidden. */
  number: string;
  result: RowResult;
  reason: string | null;
}

export interface ImportOptions {
  appId: string;
  pool?: string;
  batchSize?: number;
  /** Called after each batch of the file with the rows done so far. */
  onProgress?: (done: number, total: number) => void;
}

/** A problem's detail about one DID, without the DID (the report already names the row). */
function conflictReason(detail: string | undefined): string {
  const text = (detail ?? "conflict")
    .replace(/^Nothing was imported: /, "")
    .replace(/numbers\[\d+\] \([^)]*\) /, "")
    .replace(/\.$/, "");
  return text.replace(/\+?\d[\d\s-]{5,}\d/g, (digits) => maskNumber(digits));
}

export async function importNumbers(client: Maskline, rows: CsvRow[], options: ImportOptions): Promise<ReportRow[]> {
  const pool = options.pool ?? DEFAULT_POOL;
  const batchSize = options.batchSize ?? DEFAULT_BATCH;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH) {
    throw new RangeError(`the batch size must be 1–${MAX_BATCH}`);
  }
  await client.apps.get(options.appId); // a 404 here names the app, before any row is judged
  // What the pool holds already, so a row for one of those DIDs reads "duplicate", not "imported".
  const held = await client.numbers.list({ pool, status: "active", limit: PAGE_SIZE.maximum }).toArray();
  const other = held.find((n) => n.appId !== options.appId);
  if (other) throw new Error(`pool '${pool}' belongs to app ${other.appId}; name another pool with --pool`);
  const firstLine = new Map<string, number | "pool">(held.map((n) => [n.number, "pool" as const]));

  const report = new Map<number, ReportRow>();
  const settle = (row: CsvRow, result: RowResult, reason: string | null) =>
    report.set(row.line, { line: row.line, number: maskNumber(row.value), result, reason });

  const classify = (row: CsvRow, imported: MaskingNumber) => {
    const first = firstLine.get(imported.number);
    if (first === undefined) {
      firstLine.set(imported.number, row.line);
      settle(row, "imported", null);
    } else {
      settle(row, "duplicate", first === "pool" ? `already in pool '${pool}'` : `same number as line ${first}`);
    }
  };

  const send = async (batch: CsvRow[]): Promise<void> => {
    if (batch.length === 0) return;
    let data: MaskingNumber[];
    try {
      ({ data } = await client.numbers.create({ appId: options.appId, pool, numbers: batch.map((r) => r.value) }));
    } catch (err) {
      if (err instanceof ValidationError) {
        const invalid = new Map<number, string>();
        for (const e of err.errors) {
          const index = /^\/body\/numbers\/(\d+)$/.exec(e.path)?.[1];
          if (index !== undefined) invalid.set(Number(index), e.message);
        }
        if (invalid.size === 0) throw err; // not about a number (the pool's name, say): no row is to blame
        batch.forEach((row, i) => invalid.has(i) && settle(row, "invalid", invalid.get(i)!));
        return send(batch.filter((_, i) => !invalid.has(i)));
      }
      if (err instanceof ConflictError && err.code === "conflict") {
        if (batch.length === 1) return void settle(batch[0]!, "conflict", conflictReason(err.detail));
        return halves(batch);
      }
      throw err;
    }
    if (data.length !== batch.length) return halves(batch); // rows that repeat a number: see the module comment
    batch.forEach((row, i) => classify(row, data[i]!));
  };
  const halves = async (batch: CsvRow[]) => {
    const middle = Math.ceil(batch.length / 2);
    await send(batch.slice(0, middle));
    await send(batch.slice(middle));
  };

  const candidates = rows.filter((row) => {
    if (row.value.trim() !== "") return true;
    settle(row, "invalid", "no number in this row");
    return false;
  });
  for (let start = 0; start < candidates.length; start += batchSize) {
    await send(candidates.slice(start, start + batchSize));
    options.onProgress?.(Math.min(start + batchSize, candidates.length), candidates.length);
  }
  return [...report.values()].sort((a, b) => a.line - b.line);
}
