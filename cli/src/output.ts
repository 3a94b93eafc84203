/** How results are shown: aligned columns for a person, or JSON (`--json`) for a program. */
export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export type Row = Record<string, string | number | null | undefined>;

/** Columns padded to their widest cell; `-` for an empty one. */
export function table(rows: Row[], columns: string[]): string {
  const cells = rows.map((row) => columns.map((c) => (row[c] === null || row[c] === undefined || row[c] === "" ? "-" : String(row[c]))));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i]!)).join("  ").trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...cells.map(line)].join("\n") + "\n";
}

export const json = (value: unknown): string => JSON.stringify(value, null, 2) + "\n";

/**
 * A phone number with its middle hidden (`+91******0001`), as the API masks participants: a report may show which
 * row it is about without repeating the number whole.
 */
export function maskNumber(raw: string): string {
  const compact = raw.replace(/[\s\-().\/]/g, "");
  if (compact.length <= 7) return "*".repeat(compact.length);
  return compact.slice(0, 3) + "*".repeat(compact.length - 7) + compact.slice(-4);
}
