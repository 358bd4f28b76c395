/**
 * The table the benchmarks print before their BENCH lines: the first column
 * left-aligned, the figures right-aligned, two spaces between columns.
 */

/** Prints `header` and `rows` as aligned columns, with a blank line before and after. */
export function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  console.log('');
  console.log(line(header));
  for (const row of rows) console.log(line(row));
  console.log('');
}
