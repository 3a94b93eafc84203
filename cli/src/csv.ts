/**
 * The CSV of numbers to import: one number per row in one column. Quoted fields (RFC 4180: `"…"`, `""` for a quote)
 * are read; a first row whose cell in the number column holds no digit is a header.
 */
export interface CsvRow {
  /** 1-based line in the file, for the report. */
  line: number;
  value: string;
}

function splitRecord(line: string): string[] {
  const fields: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      fields.push(field);
      field = "";
    } else field += ch;
  }
  fields.push(field);
  return fields.map((f) => f.trim());
}

const HEADER_NAMES = ["number", "did", "phone", "phone_number", "e164", "msisdn"];

/**
 * The rows of `text` with their value in `column` (a header name, or a 1-based index); without `column`, the header
 * named like a number (number, did, phone, e164, …) or else the first column. Blank lines are skipped.
 */
export function parseNumbersCsv(text: string, column?: string): CsvRow[] {
  const records = text
    .replace(/^\uFEFF/, "")
    .split(/\r\n|\n|\r/)
    .map((line, i) => ({ line: i + 1, fields: splitRecord(line) }))
    .filter((r) => r.fields.some((f) => f !== ""));
  if (records.length === 0) return [];
  const first = records[0]!.fields.map((f) => f.toLowerCase());
  let index = 0;
  let hasHeader = false;
  if (column !== undefined && /^\d+$/.test(column)) {
    index = Number(column) - 1;
    hasHeader = !/\d/.test(records[0]!.fields[index] ?? "");
  } else if (column !== undefined) {
    index = first.indexOf(column.toLowerCase());
    if (index < 0) throw new Error(`the CSV has no column named "${column}" (its first row: ${records[0]!.fields.join(", ")})`);
    hasHeader = true;
  } else {
    const named = first.findIndex((f) => HEADER_NAMES.includes(f));
    index = Math.max(named, 0);
    hasHeader = named >= 0 || !/\d/.test(records[0]!.fields[0] ?? "");
  }
  return records.slice(hasHeader ? 1 : 0).map((r) => ({ line: r.line, value: r.fields[index] ?? "" }));
}
